// Head-of-line blocking across multiplexed channels (issue 5).
//
//     swift run -c release mux-hol-bench [pings] [runs]
//
// One physical connection over 127.0.0.1, server and client in this process.
// Channel 1 (/echo) ping-pongs 32-byte messages and records each round trip;
// at the same time, channel 2 (/sink) streams 1 MiB binary messages as fast as
// the link takes them. Each configuration is measured `runs` times (default 5)
// with `pings` round trips (default 2000); the table gives the medians over
// runs of p50, p99 and max, and the bulk channel's throughput.
//
// Configurations:
//   idle         no bulk transfer: the floor
//   bulk, fair   the defaults: 16 KiB pieces, 64 KiB quota per channel
//   bulk, fair, 256 KiB quota   the same pieces, four times the quota (throughput vs latency)
//   bulk, unfair pieces and quota of 16 MiB: each 1 MiB message goes as one piece,
//                as if there were no sharing (what the defaults protect against)
import Multiplex
import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import Synchronization

struct Figures {
    var p50: Double
    var p99: Double
    var max: Double
    var bulkMBps: Double
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

final class Box<T: Sendable>: Sendable {
    private let mutex: Mutex<T>
    init(_ value: T) { mutex = Mutex(value) }
    var value: T {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}

func measure(port: Int, mux: MuxConfiguration, bulk: Bool, pings: Int) async throws -> Figures {
    let client = WebSocketClientConfiguration(extensions: [Multiplex(configuration: mux)], connection: .init(pingInterval: nil))
    let result = Box(Figures(p50: 0, p99: 0, max: 0, bulkMBps: 0))
    try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: client) { inbound, outbound, context in
        let sink = try await context.openChannel(path: "/sink")
        let bulkBytes = Box(0)
        let stop = Box(false)
        let start = ContinuousClock.now
        let bulkTask = Task {
            guard bulk else { return }
            let message = ByteBuffer(repeating: 0x5A, count: 1 << 20)
            while !stop.value {
                try await sink.outbound.send(binary: message)
                bulkBytes.value += message.readableBytes
            }
        }
        if bulk { try await Task.sleep(for: .milliseconds(200)) }  // let the bulk stream fill the link
        var rtts: [Double] = []
        rtts.reserveCapacity(pings)
        var iterator = inbound.makeAsyncIterator()
        let ping = String(repeating: "p", count: 32)
        for _ in 0..<pings {
            let sent = ContinuousClock.now
            try await outbound.send(text: ping)
            guard try await iterator.next() != nil else { break }
            let elapsed = ContinuousClock.now - sent
            rtts.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        stop.value = true
        try? await bulkTask.value
        let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18 + Double((ContinuousClock.now - start).components.seconds)
        rtts.sort()
        result.value = Figures(
            p50: percentile(rtts, 0.5), p99: percentile(rtts, 0.99), max: rtts.last ?? 0,
            bulkMBps: Double(bulkBytes.value) / seconds / 1e6)
        try await sink.outbound.close()
    }
    return result.value
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let pings = arguments.first ?? 2000
let runs = arguments.dropFirst().first ?? 5

let fair = MuxConfiguration()
let unfair = MuxConfiguration(receiveWindow: 16 << 20, maxFragmentSize: 16 << 20)
let wide = MuxConfiguration(receiveWindow: 256 << 10)
let cases: [(String, MuxConfiguration, Bool)] = [
    ("idle", fair, false), ("bulk, fair (defaults)", fair, true),
    ("bulk, fair, 256 KiB quota", wide, true), ("bulk, unfair", unfair, true),
]

var routes = WebSocketRoutes()
routes.add(
    "/echo",
    handler: ClosureWebSocketHandler { inbound, outbound, _ in
        for try await message in inbound { try await outbound.send(message) }
    })
routes.add(
    "/sink",
    handler: ClosureWebSocketHandler { inbound, _, _ in
        for try await _ in inbound {}
    })

print("mux head-of-line: \(pings) ping-pongs of 32 B on channel 1 per run, \(runs) runs, medians over runs (microseconds)")
print("| case | p50 | p99 | max | bulk MB/s |")
print("|---|---|---|---|---|")
for (name, mux, bulk) in cases {
    let server = WebSocketServer(
        configuration: WebSocketServerConfiguration(
            host: "127.0.0.1", port: 0, routes: routes, extensions: [Multiplex(configuration: mux)],
            connection: .init(limits: .init(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20), pingInterval: nil)))
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let serverTask = Task { try await server.run { continuation.yield($0.port ?? 0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { fatalError("server did not start") }
    var figures: [Figures] = []
    for _ in 0..<runs { figures.append(try await measure(port: port, mux: mux, bulk: bulk, pings: pings)) }
    print(
        "| \(name) | \(Int(median(figures.map(\.p50)))) | \(Int(median(figures.map(\.p99)))) | \(Int(median(figures.map(\.max)))) | "
            + (bulk ? "\(Int(median(figures.map(\.bulkMBps))))" : "-") + " |")
    serverTask.cancel()
    _ = try? await serverTask.value
}
