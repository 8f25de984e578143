// Release-mode micro-benchmarks: `swift run -c release switchboard-microbench [filter]`,
// filter one of deflate, mask, utf8, parse, handshake, mux (default: all).
// JSON-RPC dispatch is measured end to end by `swift run -c release jsonrpc-bench`.
//
// Each benchmark runs a fixed amount of work several times and prints the median
// throughput; the figures are for comparison on the same machine in the same run
// (the machines are shared and noisy), not absolute. Where a benchmark counts
// operations, it also prints heap allocations per operation (every malloc of the
// process during one run, counted by the AllocationCounter target, divided by
// the run's operations): unlike time, that count is exact and does not drift.
import AllocationCounter
import CZlib
import Multiplex
import NIOCore
import PerMessageDeflate
import SwitchboardCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Heap allocations of the last run of ``measure(runs:_:)``.
nonisolated(unsafe) var allocationsInLastRun: UInt64 = 0

/// Runs `body` `runs` times; returns the median seconds.
func measure(runs: Int = 7, _ body: () -> Void) -> Double {
    body()  // warm-up
    var times: [Double] = []
    for _ in 0..<runs {
        let allocationsBefore = switchboard_allocation_count()
        let start = now()
        body()
        times.append(now() - start)
        allocationsInLastRun = switchboard_allocation_count() - allocationsBefore
    }
    return times.sorted()[runs / 2]
}

/// `  N allocations/op`, from the last measured run.
func allocations(per operations: Int) -> String {
    "  \(fixed(Double(allocationsInLastRun) / Double(operations))) allocations/op"
}

/// `value` with one decimal.
func fixed(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

func report(_ name: String, bytes: Int, seconds: Double, operations: Int? = nil) {
    let mbps = Double(bytes) / seconds / 1e6
    let padded = name + String(repeating: " ", count: max(1, 52 - name.count))
    print("\(padded)\(fixed(mbps)) MB/s  (median of 7)" + (operations.map(allocations(per:)) ?? ""))
}

/// JSON-like text: what permessage-deflate is mostly used for.
func jsonPayload(_ size: Int) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while out.count < size {
        out += Array(
            "{\"id\":\(i),\"method\":\"update\",\"params\":{\"user\":\"user\(i % 97)\",\"score\":\(i * 7 % 1000),\"tags\":[\"a\",\"b\"]}},".utf8)
        i += 1
    }
    return Array(out.prefix(size))
}

let filter = CommandLine.arguments.dropFirst().first ?? ""

// MARK: permessage-deflate vs raw zlib

if "deflate".hasPrefix(filter) || filter.hasPrefix("deflate") {
    let level: Int32 = 6
    let windowBits: Int32 = 12
    let memLevel: Int32 = 5
    for size in [1024, 16 * 1024, 128 * 1024] {
        let payload = jsonPayload(size)
        let messages = max(8, (32 << 20) / size)

        // Raw zlib: one stream, sync flush per message, same parameters as the plug-in's defaults.
        let raw = measure {
            var stream = z_stream()
            deflateInit2_(&stream, level, Z_DEFLATED, -windowBits, memLevel, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            var out = [UInt8](repeating: 0, count: size + 1024)
            var input = payload
            for _ in 0..<messages {
                input.withUnsafeMutableBufferPointer { inp in
                    out.withUnsafeMutableBufferPointer { o in
                        stream.next_in = inp.baseAddress
                        stream.avail_in = uInt(inp.count)
                        stream.next_out = o.baseAddress
                        stream.avail_out = uInt(o.count)
                        _ = CZlib.deflate(&stream, Z_SYNC_FLUSH)
                    }
                }
            }
            deflateEnd(&stream)
        }
        report("zlib raw deflate, level 6, 12 bits, \(size / 1024) KiB", bytes: size * messages, seconds: raw, operations: messages)

        // The plug-in, through a server engine: message in, framed compressed bytes out.
        let factory = PerMessageDeflate()
        let accepted = factory.serverAccept([ExtensionOffer("permessage-deflate", [.init("client_max_window_bits")])])!
        var engine = WebSocketEngine(role: .server, extensions: [accepted.extension])
        let message = WebSocketMessage.binary(ByteBuffer(bytes: payload))
        let plugin = measure {
            for _ in 0..<messages {
                try! engine.send(message)
                _ = engine.takeOutbound()
            }
        }
        report("permessage-deflate engine send, \(size / 1024) KiB", bytes: size * messages, seconds: plugin, operations: messages)
        print("  plug-in speed as a share of raw zlib: \(Int((raw / plugin * 100).rounded()))%")
    }
}

// MARK: masking and UTF-8

if "mask".hasPrefix(filter) || filter.hasPrefix("mask") {
    var buffer = [UInt8](repeating: 0x5A, count: 1 << 20)
    let key = WireMaskingKey(1, 2, 3, 4)
    let seconds = measure {
        buffer.withUnsafeMutableBytes { bytes in
            for _ in 0..<256 { key.apply(to: bytes) }
        }
    }
    report("masking, 1 MiB buffer", bytes: (1 << 20) * 256, seconds: seconds)

    // What FrameParser does with a masked payload and FrameWriter with a client's: copy and
    // (un)mask in one pass, into a buffer of its own.
    let source = [UInt8](repeating: 0xA5, count: 1 << 20)
    let copySeconds = measure {
        source.withUnsafeBytes { from in
            buffer.withUnsafeMutableBytes { to in
                for _ in 0..<256 { key.apply(from: from, to: to) }
            }
        }
    }
    report("masking while copying, 1 MiB to 1 MiB", bytes: (1 << 20) * 256, seconds: copySeconds)
}

if "utf8".hasPrefix(filter) || filter.hasPrefix("utf8") {
    let text = jsonPayload(1 << 20)
    var ok = true
    let seconds = measure {
        text.withUnsafeBytes { bytes in
            for _ in 0..<256 {
                var v = UTF8Validator()
                ok = ok && v.validate(bytes)
            }
        }
    }
    precondition(ok)
    report("UTF-8 validation, ASCII-heavy JSON, 1 MiB", bytes: (1 << 20) * 256, seconds: seconds)
}

func reportRate(_ name: String, operations: Int, seconds: Double) {
    let padded = name + String(repeating: " ", count: max(1, 52 - name.count))
    print("\(padded)\(Int((Double(operations) / seconds).rounded())) /s  (median of 7)" + allocations(per: operations))
}

// MARK: frame parsing (a server engine reading masked client frames)

if "parse".hasPrefix(filter) || filter.hasPrefix("parse") {
    for size in [128, 16 * 1024] {
        let count = max(64, (16 << 20) / size)
        var wire = ByteBuffer()
        let payload = ByteBuffer(bytes: jsonPayload(size))
        for _ in 0..<count {
            FrameWriter.write(WireFrame(opcode: .binary, payload: payload), maskingKey: WireMaskingKey(9, 8, 7, 6), into: &wire)
        }
        var messages = 0
        let seconds = measure {
            var engine = WebSocketEngine(role: .server, limits: .init(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20))
            var buffer = wire
            while let event = engine.receive(from: &buffer) {
                if case .message = event { messages += 1 }
            }
        }
        precondition(messages == count * 8)
        report("frame parsing + unmasking, \(size) B frames", bytes: size * count, seconds: seconds)
        reportRate("  messages", operations: count, seconds: seconds)
    }
}

// MARK: the opening handshake (server checks and response)

if "handshake".hasPrefix(filter) || filter.hasPrefix("handshake") {
    var routes = WebSocketRoutes()
    routes.add("/echo", handler: ClosureWebSocketHandler { _, _, _ in })
    let handshake = WebSocketServerHandshake(routes: routes, extensions: [PerMessageDeflate()])
    let request = HandshakeRequest(
        target: "/echo",
        headers: [
            "Host": "127.0.0.1:8080", "Upgrade": "websocket", "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        ])
    let count = 20_000
    var accepted = 0
    let seconds = measure {
        for _ in 0..<count {
            if case .accept(let a) = handshake.evaluate(request) {
                accepted += a.responseHeaders.fields.count > 3 ? 1 : 0
                _ = HTTPHeadWriter.response(status: 101, headers: a.responseHeaders)
            }
        }
    }
    precondition(accepted == count * 8)
    reportRate("server handshake (checks, SHA-1, deflate, 101 head)", operations: count, seconds: seconds)
}

// MARK: multiplexing framing

if "mux".hasPrefix(filter) || filter.hasPrefix("mux") {
    let frame = WireFrame(opcode: .text, payload: ByteBuffer(bytes: jsonPayload(128)))
    let count = 200_000
    var parsed = 0
    let seconds = measure {
        for i in 0..<count {
            let message = MuxMessage.frame(MuxChannelID(UInt32(2 + i % 200))!, frame)
            if case .frame(_, let f) = try! MuxMessage(parsing: message.payload()) { parsed += f.payload.readableBytes == 128 ? 1 : 0 }
        }
    }
    precondition(parsed == count * 8)
    reportRate("mux logical frame encode + parse, 128 B", operations: count, seconds: seconds)
}
