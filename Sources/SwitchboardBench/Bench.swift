import ArgumentParser
import Histogram
import Multiplex
import NIOCore
import NIOPosix
import PerMessageDeflate
import Switchboard
import SwitchboardCore
import SwitchboardRegistry

/// `switchboard bench URL`: an echo load generator that checks every byte.
///
/// C connections each keep 1 message (ping-pong) or K messages (pipelined) in
/// flight against an echo endpoint for a given duration, after a warm-up, and
/// the run reports messages per second, MB/s of echoed payload and round-trip
/// latency percentiles (HdrHistogram, 3 significant digits). Every echo is
/// compared byte for byte with the message sent; any difference, lost or
/// extra message, or connection dropped before the end fails the run (exit
/// status 1) with a description of the first ones.
///
/// The generator must not be what limits the measurement, so it drives its
/// connections from NIO event loops directly (see `BenchConnectionHandler`):
/// pre-masked frames shared by every connection, SwitchboardCore's
/// `FrameParser` for the echoes, one flush per read batch, no Swift task per
/// message. With `--channels N` every connection multiplexes N logical
/// channels instead (see `BenchMux`).
public struct Bench: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Load an echo server: C connections, ping-pong or pipelined, every echoed byte checked.",
        discussion: """
            Prints messages/s, MB/s (echoed payload, one direction, 10^6 bytes) and round-trip \
            latency p50/p99/p99.9; --json prints one JSON line instead. Exit status 1 when any echo \
            differs from what was sent or a connection fails.
            Against `switchboard serve`, run the server with --no-deflate --ping-interval 0 for raw echo figures.
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// One message in flight per connection: send, wait for the echo, send the next.
        case pingpong
        /// K messages in flight per connection: each echo is answered by a new message.
        case pipelined
    }

    enum Kind: String, EnumerableFlag, Sendable {
        case binary
        case text
    }

    @Argument(help: "ws:// URL of an echo endpoint, e.g. ws://127.0.0.1:8080/echo.") var url: String
    @Option(name: [.customShort("c"), .customLong("connections")], help: "Connections.") var connections = 1
    @Option(name: [.customShort("s"), .customLong("size")], help: "Message size in bytes.") var size = 128
    @Option(help: "pingpong (1 in flight per connection) or pipelined (K in flight).") var mode: Mode = .pingpong
    @Option(name: [.customShort("k"), .customLong("in-flight")], help: "Messages in flight per connection with --mode pipelined.")
    var inFlight = 16
    @Option(name: [.customShort("d"), .customLong("duration")], help: "Seconds measured.") var duration = 5.0
    @Option(help: "Seconds of load before measuring starts.") var warmup = 1.0
    @Flag(help: "Message type (default binary; text messages are printable ASCII).") var kind: Kind = .binary
    @Flag(help: "Offer permessage-deflate (off by default: the benchmark measures framing, not zlib).") var deflate = false
    @Option(help: "With --deflate: the generator's zlib level, 0 to 9 (default the library's).") var deflateLevel: Int?
    @Flag(help: "Print one JSON line instead of the table.") var json = false
    @Option(help: "Event-loop threads of the generator.") var threads = 1
    @Option(help: "Logical channels per connection (multiplexing, the mux extension); 1 is a plain connection.")
    var channels = 1
    @Flag(help: "Measure opening handshakes per second instead: C loops of connect, upgrade, check the 101, close.")
    var handshakes = false
    @Option(help: "Also report the CPU use of this process (the server's pid; Linux /proc) over the measured window.")
    var serverPid: Int32?

    public func validate() throws {
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard size >= 0, size <= 16 << 20 else { throw ValidationError("--size must be between 0 and 16 MiB") }
        guard inFlight >= 1 else { throw ValidationError("--in-flight must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard channels >= 1, channels <= MuxConfiguration().maxChannels else {
            throw ValidationError("--channels must be between 1 and \(MuxConfiguration().maxChannels)")
        }
        guard let parsed = WebSocketURL(url) else { throw ValidationError("not a ws:// URL: \(url)") }
        guard !parsed.isSecure else { throw ValidationError("wss:// is not supported by bench yet: measure TLS separately") }
    }

    public init() {}

    public func run() async throws {
        let target = WebSocketURL(url)!
        let perConnection = mode == .pingpong ? 1 : inFlight
        let limit = max(size + 1024, 1 << 20)
        let limits = WebSocketLimits(maxFrameSize: limit, maxMessageSize: limit)
        let load = BenchLoad(
            payloads: BenchPayloads(size: size, kind: kind == .text ? .text : .binary),
            inFlight: perConnection, limits: limits)
        let extensions: [any WebSocketExtensionFactory] =
            deflate
            ? [
                PerMessageDeflate(
                    configuration: .init(
                        compressionLevel: deflateLevel ?? PerMessageDeflate.Configuration().compressionLevel, maxDecompressedMessageSize: limit))
            ]
            : []

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let result: BenchSnapshot
        let negotiated: [String]
        let cpu: (generator: Double, server: Double?)
        do {
            if handshakes {
                (result, negotiated, cpu) = try await measureHandshakes(target: target)
            } else if channels > 1 {
                var configuration = WebSocketClientConfiguration(
                    extensions: extensions + [Multiplex()],
                    connection: .init(limits: limits, pingInterval: nil))
                configuration.handshakeTimeout = .seconds(10)
                (result, negotiated, cpu) = try await BenchMux.measure(
                    BenchMux.Plan(
                        url: url, connections: connections, channels: channels, inFlight: perConnection, payloads: load.payloads,
                        warmup: warmup, duration: duration, configuration: configuration, serverPID: serverPid))
            } else {
                (result, negotiated, cpu) = try await measure(group: group, target: target, load: load, extensions: extensions)
            }
            try? await group.shutdownGracefully()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }

        if json {
            StandardStream.standardOutput.write(jsonLine(result, extensions: negotiated, perConnection: perConnection, cpu: cpu) + "\n")
        } else {
            StandardStream.standardOutput.write(table(result, extensions: negotiated, perConnection: perConnection, cpu: cpu))
        }
        if result.mismatches > 0 || !result.errors.isEmpty {
            var text = "\nERROR: the run is not valid:"
            if result.mismatches > 0 { text += " \(result.mismatches) echo(es) differed from what was sent;" }
            if !result.errors.isEmpty { text += " connection(s) failed;" }
            text += "\n"
            for line in result.mismatchSamples + result.errors { text += "  \(line)\n" }
            StandardStream.standardError.write(text)
            throw ExitCode(1)
        }
    }

    /// Connects, warms up, measures, stops, and returns the merged counts, the negotiated extensions
    /// and the CPU use of both sides over the measured window.
    private func measure(
        group: MultiThreadedEventLoopGroup, target: WebSocketURL, load: BenchLoad,
        extensions: [any WebSocketExtensionFactory]
    )
        async throws -> (BenchSnapshot, [String], (generator: Double, server: Double?))
    {
        let loops = Array(group.makeIterator())
        var recorders: [(loop: any EventLoop, recorder: NIOLoopBound<BenchRecorder>)] = []
        for loop in loops {
            recorders.append((loop, try await loop.submit { NIOLoopBound(BenchRecorder(), eventLoop: loop) }.get()))
        }

        // Connect, at most 64 handshakes at a time.
        let started = monotonicNanoseconds()
        var channels: [any Channel] = []
        var negotiated: [String] = []
        do {
            for batchStart in stride(from: 0, to: connections, by: 64) {
                let batch = batchStart..<min(connections, batchStart + 64)
                let opened = try await withThrowingTaskGroup(of: (any Channel, [String]).self) { tasks in
                    for index in batch {
                        let (loop, recorder) = recorders[index % recorders.count]
                        let handshake = WebSocketClientHandshake(host: target.hostHeader, target: target.target, extensions: extensions)
                        tasks.addTask {
                            try await Self.open(index: index, url: target, loop: loop, load: load, handshake: handshake, recorder: recorder)
                        }
                    }
                    var opened: [(any Channel, [String])] = []
                    for try await result in tasks { opened.append(result) }
                    return opened
                }
                channels += opened.map(\.0)
                negotiated = opened.first?.1 ?? negotiated
            }
        } catch {
            channels.forEach { $0.close(promise: nil) }
            StandardStream.standardError.write("error: \(error)\n")
            throw ExitCode(1)
        }
        let connectSeconds = Double(monotonicNanoseconds() - started) / 1e9
        if !json {
            StandardStream.standardError.write(
                "\(connections) connection(s) open in \(fixed(connectSeconds, 2)) s; warming up \(fixed(warmup, 1)) s, then measuring \(fixed(duration, 1)) s\n"
            )
        }

        let cpu = try await measuredWindow(recorders)

        // Stop: each connection waits for its echoes in flight (they are checked too), then closes.
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(BenchStopEvent()) }
        let all = channels
        let drainDeadline = all.first.map { $0.eventLoop.scheduleTask(in: .seconds(5)) { all.forEach { $0.close(promise: nil) } } }
        for channel in all { try? await channel.closeFuture.get() }
        drainDeadline?.cancel()

        return (try await merged(recorders), negotiated, cpu)
    }

    /// The warm-up, then the measured window: every recorder starts and stops together.
    /// Returns the CPU use of both sides over the window.
    private func measuredWindow(
        _ recorders: [(loop: any EventLoop, recorder: NIOLoopBound<BenchRecorder>)]
    )
        async throws -> (generator: Double, server: Double?)
    {
        try await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
        let cpuStart = BenchCPUSample.take(serverPID: serverPid)
        for (loop, recorder) in recorders { try await loop.submit { recorder.value.startMeasuring() }.get() }
        try await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
        for (loop, recorder) in recorders { _ = try await loop.submit { recorder.value.stopMeasuring() }.get() }
        return BenchCPUSample.busy(from: cpuStart, to: BenchCPUSample.take(serverPID: serverPid))
    }

    /// Every recorder's counts, merged.
    private func merged(_ recorders: [(loop: any EventLoop, recorder: NIOLoopBound<BenchRecorder>)]) async throws -> BenchSnapshot {
        var total: BenchSnapshot?
        for (loop, recorder) in recorders {
            total.add(try await loop.submit { recorder.value.snapshot() }.get())
        }
        return total!
    }

    /// Runs C handshake loops (see `BenchHandshakes`) over the warm-up and the measured window, spread
    /// over `threads` threads of a thread pool (the loops block in `poll`).
    private func measureHandshakes(
        target: WebSocketURL
    )
        async throws -> (BenchSnapshot, [String], (generator: Double, server: Double?))
    {
        let plan = try BenchHandshakes.Plan(url: target)
        let phase = BenchHandshakes.Phase()
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        return try await withThrowingTaskGroup(of: BenchSnapshot.self) { group in
            for thread in 0..<threads {
                let loops = connections / threads + (thread < connections % threads ? 1 : 0)
                guard loops > 0 else { continue }
                group.addTask { try await pool.runIfActive { BenchHandshakes.run(loops: loops, plan: plan, phase: phase) } }
            }
            try await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
            let cpuStart = BenchCPUSample.take(serverPID: serverPid)
            phase.beginMeasuring()
            try await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
            phase.end()
            let cpu = BenchCPUSample.busy(from: cpuStart, to: BenchCPUSample.take(serverPID: serverPid))
            var total: BenchSnapshot?
            for try await snapshot in group { total.add(snapshot) }
            return (total!, [], cpu)
        }
    }

    /// Opens one connection on `loop` and waits for its handshake; returns the channel and the negotiated extensions.
    private static func open(
        index: Int, url: WebSocketURL, loop: any EventLoop, load: BenchLoad, handshake: WebSocketClientHandshake,
        recorder: NIOLoopBound<BenchRecorder>
    ) async throws -> (any Channel, [String]) {
        let (channel, ready) = try await ClientBootstrap(group: loop)  // TCP_NODELAY is ClientBootstrap's default
            .connectTimeout(load.handshakeTimeout)
            .connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ready = channel.eventLoop.makePromise(of: [String].self)
                    try channel.pipeline.syncOperations.addHandler(
                        BenchConnectionHandler(
                            index: index, load: load, handshake: handshake, recorder: recorder, ready: ready))
                    return (channel, ready.futureResult)
                }
            }
        do {
            return (channel, try await ready.get())
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    // MARK: Output

    private func describeLoad(perConnection: Int) -> String {
        if handshakes { return "\(connections) handshake loop(s): connect, upgrade, check the 101, close; \(threads) generator thread(s)" }
        let modeText = mode == .pingpong ? "ping-pong" : "pipelined, \(perConnection) in flight"
        let multiplexed = channels > 1 ? " x \(channels) mux channels" : ""
        let per = channels > 1 ? " per channel" : (mode == .pipelined ? " per connection" : "")
        return "\(connections) connection(s)\(multiplexed), \(size)-byte \(kind.rawValue) messages, \(modeText)\(per), \(threads) generator thread(s)"
    }

    private func table(_ r: BenchSnapshot, extensions: [String], perConnection: Int, cpu: (generator: Double, server: Double?)) -> String {
        let us = { (p: Double) in fixed(Double(r.latency.valueAtPercentile(p)) / 1000, 1) }
        let checked = r.mismatches == 0 ? "all matched" : "\(r.mismatches) MISMATCHED"
        return """
            switchboard bench \(url)
              load        \(describeLoad(perConnection: perConnection))
              extensions  \(extensions.isEmpty ? "none" : extensions.joined(separator: ", "))\(deflate && extensions.isEmpty ? " (permessage-deflate offered, not accepted)" : "")
              measured    \(fixed(r.seconds, 2)) s after \(fixed(warmup, 1)) s of warm-up
              messages/s  \(fixed(r.messagesPerSecond, 0))
              MB/s        \(fixed(r.payloadBytesPerSecond / 1e6, 1))  (echoed payload, one direction)
              latency µs  p50 \(us(50))  p99 \(us(99))  p99.9 \(us(99.9))  max \(fixed(Double(r.latency.max) / 1000, 1))
              cpu         generator \(fixed(cpu.generator * 100, 0))% of one core\(cpu.server.map { ", server \(fixed($0 * 100, 0))%" } ?? "")
              checked     \(r.messages) echoes measured, every echo of the run compared byte for byte: \(checked)

            """
    }

    private func jsonLine(_ r: BenchSnapshot, extensions: [String], perConnection: Int, cpu: (generator: Double, server: Double?)) -> String {
        let us = { (p: Double) in fixed(Double(r.latency.valueAtPercentile(p)) / 1000, 1) }
        let fields: [(String, String)] = [
            ("url", jsonString(url)),
            ("mode", jsonString(handshakes ? "handshakes" : mode.rawValue)),
            ("connections", "\(connections)"),
            ("channels", "\(channels)"),
            ("size", "\(size)"),
            ("kind", jsonString(kind.rawValue)),
            ("in_flight", "\(perConnection)"),
            ("threads", "\(threads)"),
            ("deflate_offered", "\(deflate)"),
            ("extensions", "[" + extensions.map(jsonString).joined(separator: ",") + "]"),
            ("warmup_s", fixed(warmup, 3)),
            ("duration_s", fixed(r.seconds, 3)),
            ("messages", "\(r.messages)"),
            ("msgs_per_s", fixed(r.messagesPerSecond, 1)),
            ("mb_per_s", fixed(r.payloadBytesPerSecond / 1e6, 3)),
            ("p50_us", us(50)),
            ("p99_us", us(99)),
            ("p999_us", us(99.9)),
            ("max_us", fixed(Double(r.latency.max) / 1000, 1)),
            ("generator_cpu", fixed(cpu.generator, 3)),
            ("server_cpu", cpu.server.map { fixed($0, 3) } ?? "null"),
            ("mismatches", "\(r.mismatches)"),
            ("errors", "\(r.errors.count)"),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// `value` with `digits` decimals (no Foundation); non-finite values print as 0.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return "\(value)" }
    let n = Int64(scaled)
    let whole = n / Int64(scale)
    var text = (value < 0 && n != 0 ? "-" : "") + String(whole)
    if digits > 0 {
        let fraction = String(n % Int64(scale))
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20:
            out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
