import Multiplex
import NIOCore
import Switchboard
import SwitchboardCore
import Synchronization

/// `switchboard bench --channels N`: every connection negotiates multiplexing
/// and carries N logical channels (its own and N - 1 opened with
/// `openChannel`), each loaded like a connection of the plain mode, with the
/// same payload variants and the same byte-for-byte check.
///
/// Unlike the plain mode, which drives raw frames from event-loop handlers,
/// this one goes through the library's client (a channel's frames need the
/// multiplexing session): one Swift task per channel, so the generator costs
/// more per message here. Its CPU use is reported as in the plain mode; below
/// one core it is not what limits the run.
enum BenchMux {
    /// Where the run stands, read by every channel's task at each echo.
    final class Phase: Sendable {
        static let warmingUp = 0, measuring = 1, stopping = 2
        private let value = Atomic<Int>(0)
        var current: Int { value.load(ordering: .relaxed) }
        func set(_ phase: Int) { value.store(phase, ordering: .relaxed) }
    }

    /// Snapshots of the finished channels, merged.
    final class Results: Sendable {
        private let total = Mutex<BenchSnapshot?>(nil)
        private let negotiated = Mutex<[String]>([])
        private let busy = Mutex<(generator: Double, server: Double?)>((0, nil))
        func add(_ snapshot: BenchSnapshot) { total.withLock { $0.add(snapshot) } }
        func note(extensions: [String]) { negotiated.withLock { $0 = extensions } }
        var snapshot: BenchSnapshot? { total.withLock { $0 } }
        var extensions: [String] { negotiated.withLock { $0 } }
        /// CPU use over the measured window.
        var cpu: (generator: Double, server: Double?) {
            get { busy.withLock { $0 } }
            set { busy.withLock { $0 = newValue } }
        }
    }

    struct Plan: Sendable {
        var url: String
        var connections: Int
        var channels: Int
        var inFlight: Int
        var payloads: BenchPayloads
        var warmup: Double
        var duration: Double
        var configuration: WebSocketClientConfiguration
        var serverPID: Int32?
    }

    /// Runs the load and returns the merged counts, the channels' negotiated extensions and the CPU use.
    static func measure(_ plan: Plan) async throws -> (BenchSnapshot, [String], (generator: Double, server: Double?)) {
        let phase = Phase()
        let results = Results()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<plan.connections {
                group.addTask { try await connection(index: index, plan: plan, phase: phase, results: results) }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(plan.warmup * 1000)))
                let start = BenchCPUSample.take(serverPID: plan.serverPID)
                phase.set(Phase.measuring)
                try await Task.sleep(for: .milliseconds(Int64(plan.duration * 1000)))
                phase.set(Phase.stopping)
                let busy = BenchCPUSample.busy(from: start, to: BenchCPUSample.take(serverPID: plan.serverPID))
                results.cpu = busy
            }
            try await group.waitForAll()
        }
        guard let snapshot = results.snapshot else { throw MultiplexError.channelRefused("no channel ran") }
        return (snapshot, results.extensions, results.cpu)
    }

    private static func connection(index: Int, plan: Plan, phase: Phase, results: Results) async throws {
        try await WebSocketConnector.connect(to: plan.url, configuration: plan.configuration) { inbound, outbound, context in
            guard context.canOpenChannels else { throw MultiplexError.channelRefused("the server did not accept multiplexing") }
            var endpoints = [WebSocketLogicalChannel(inbound: inbound, outbound: outbound, context: context)]
            for _ in 1..<plan.channels { endpoints.append(try await context.openChannel(path: context.request.path)) }
            results.note(extensions: endpoints[0].context.extensions)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (number, endpoint) in endpoints.enumerated() {
                    group.addTask {
                        results.add(try await load(endpoint, stream: index * plan.channels + number, plan: plan, phase: phase))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// One channel's load: K messages in flight, each echo checked and answered by the next message until the run stops.
    private static func load(_ endpoint: WebSocketLogicalChannel, stream: Int, plan: Plan, phase: Phase) async throws -> BenchSnapshot {
        let recorder = BenchRecorder()
        var sendTimes = [UInt64](repeating: 0, count: plan.inFlight)
        var sent = 0
        var received = 0
        var measuring = false
        func send() async throws {
            let payload = plan.payloads.payloads[BenchPayloads.variant(sequence: sent, connection: stream)]
            sendTimes[sent % plan.inFlight] = monotonicNanoseconds()
            sent += 1
            try await endpoint.outbound.send(WebSocketMessage(kind: plan.payloads.kind, data: payload))
        }
        for _ in 0..<plan.inFlight { try await send() }
        var iterator = endpoint.inbound.makeAsyncIterator()
        while received < sent, let echo = try await iterator.next() {
            let now = monotonicNanoseconds()
            let expected = plan.payloads.payloads[BenchPayloads.variant(sequence: received, connection: stream)]
            if echo.data != expected || echo.kind != plan.payloads.kind {
                recorder.recordMismatch(
                    "stream \(stream) message \(received): \(echo.data.readableBytes) bytes differ from the \(expected.readableBytes) sent")
            }
            let current = phase.current
            if current == Phase.measuring && !measuring {
                recorder.startMeasuring()
                measuring = true
            } else if current == Phase.stopping && measuring {
                _ = recorder.stopMeasuring()  // the window ends here; the echoes still in flight are only checked
                measuring = false
            }
            recorder.recordEcho(roundTripNanoseconds: now &- sendTimes[received % plan.inFlight], payloadBytes: echo.data.readableBytes)
            received += 1
            if current != Phase.stopping { try await send() }
        }
        if received < sent { recorder.recordError("stream \(stream): the channel ended with \(sent - received) echo(es) missing") }
        try? await endpoint.outbound.close()
        while (try? await iterator.next()) != nil {}
        return recorder.snapshot()
    }
}
