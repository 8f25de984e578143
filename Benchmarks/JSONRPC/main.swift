// JSON-RPC and SOAP calls per second over loopback: `swift run -c release jsonrpc-bench [options]`.
//
//   --seconds S     measured seconds per run (default 2, after 0.5 s of warm-up)
//   --runs N        runs per scenario; the median is reported (default 5)
//   --url URL       call an external server's /rpc (e.g. `switchboard serve`) instead of one in this process
//                   (and its /soap)
//   --protocols P   jsonrpc, soap or jsonrpc,soap (default both, each scenario side by side)
//
// Each scenario opens C connections, and on each runs K callers that call
// `subtract [n, 1]` (typed parameters by position, an Int result), or the SOAP
// calculator's `Subtract {a: n, b: 1}` (a typed envelope, WS-Addressing ids) one after
// another: K = 1 measures the round trip, larger K the pipelined throughput
// (the server runs a connection's calls concurrently, up to its bound of 64).
// Client and server share this machine's cores, so the figures compare runs
// on one machine; they are not absolute. Allocations per call count every heap
// allocation of this process inside the measured window (client and server
// together when the server runs here), divided by the calls completed in it.
import AllocationCounter
import JSONRPC
import NIOCore
import SOAP
import Switchboard
import SwitchboardCore
import SwitchboardExamples
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

struct Options {
    var seconds = 2.0
    var runs = 5
    var url: String?
    var protocols: [CallProtocol] = CallProtocol.allCases

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.usage("\(flag) needs a value") }
            switch flag {
            case "--seconds":
                guard let number = Double(value), number > 0 else { Self.usage("--seconds takes a positive number") }
                seconds = number
            case "--runs":
                guard let number = Int(value), number > 0 else { Self.usage("--runs takes a positive integer") }
                runs = number
            case "--url": url = value
            case "--protocols":
                let named = value.split(separator: ",").compactMap { CallProtocol(rawValue: String($0)) }
                guard !named.isEmpty else { Self.usage("--protocols takes jsonrpc, soap or jsonrpc,soap") }
                protocols = named
            default: Self.usage("unknown option \(flag)")
            }
        }
    }

    static func usage(_ problem: String) -> Never {
        print("jsonrpc-bench: \(problem)\nusage: jsonrpc-bench [--seconds S] [--runs N] [--url ws://host:port/rpc] [--protocols jsonrpc,soap]")
        exit(2)
    }
}

/// The subprotocol a scenario calls through.
enum CallProtocol: String, CaseIterable {
    case jsonrpc
    case soap

    var route: String { self == .jsonrpc ? "/rpc" : "/soap" }

    /// A client whose session hands `body` a typed `subtract(n, 1)` call, and how to connect it.
    func client(
        _ body: @escaping @Sendable (_ subtract: @escaping @Sendable (Int) async throws -> Int) async throws -> Void
    ) -> (handler: any WebSocketHandler, configuration: WebSocketClientConfiguration) {
        switch self {
        case .jsonrpc:
            let handler = JSONRPCHandler { server in try await body { n in try await server.call("subtract", [n, 1]) } }
            return (handler, .init(subprotocols: [JSONRPCHandler.defaultToken]))
        case .soap:
            let handler = SOAPHandler(namespace: SOAPCalculatorDemo.namespace) { server in
                try await body { n in
                    try await server.call("Subtract", SOAPCalculatorDemo.Operands(a: n, b: 1), as: SOAPCalculatorDemo.Result.self).result
                }
            }
            return (handler, .init(subprotocols: [SOAPHandler.token], headers: handler.handshakeHeaders))
        }
    }
}

/// Calls completed inside the measured window, across every connection.
final class Counter: Sendable {
    private let calls = Atomic<Int>(0)
    func add() { calls.add(1, ordering: .relaxed) }
    var value: Int { calls.load(ordering: .relaxed) }
}

/// What one run measured.
struct Measurement {
    var callsPerSecond: Double
    var allocationsPerCall: Double
}

/// Counts this process's heap allocations between `start` and `end`.
func allocations(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Task<UInt64, Never> {
    Task {
        try? await Task.sleep(until: start, clock: .continuous)
        let first = switchboard_allocation_count()
        try? await Task.sleep(until: end, clock: .continuous)
        return switchboard_allocation_count() - first
    }
}

/// One run: `connections` connections with `callers` sequential callers each.
func run(_ callProtocol: CallProtocol, url: String, connections: Int, callers: Int, seconds: Double) async throws -> Measurement {
    let clock = ContinuousClock()
    let start = clock.now + .milliseconds(500)
    let end = start + .milliseconds(Int(seconds * 1000))
    let counter = Counter()
    let allocated = allocations(from: start, to: end)
    let client = callProtocol.client { subtract in
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var n = caller
                    while true {
                        let difference = try await subtract(n)
                        precondition(difference == n - 1, "wrong answer")
                        let now = clock.now
                        if now >= end { return }
                        if now >= start { counter.add() }
                        n += callers
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<connections {
            group.addTask {
                try await WebSocketConnector.connect(to: url, configuration: client.configuration) {
                    try await client.handler.handle($0, $1, context: $2)
                }
            }
        }
        try await group.waitForAll()
    }
    return Measurement(
        callsPerSecond: Double(counter.value) / seconds,
        allocationsPerCall: Double(await allocated.value) / Double(max(1, counter.value)))
}

/// The transport's floor: the same request text echoed by a plain handler, one round trip at a time.
func echo(url: String, connections: Int, seconds: Double) async throws -> Measurement {
    let clock = ContinuousClock()
    let start = clock.now + .milliseconds(500)
    let end = start + .milliseconds(Int(seconds * 1000))
    let counter = Counter()
    let allocated = allocations(from: start, to: end)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<connections {
            group.addTask {
                try await WebSocketConnector.connect(to: url) { inbound, outbound, _ in
                    var replies = inbound.makeAsyncIterator()
                    while true {
                        try await outbound.send(text: #"{"jsonrpc":"2.0","method":"subtract","params":[42,1],"id":1}"#)
                        _ = try await replies.next()
                        let now = clock.now
                        if now >= end { return }
                        if now >= start { counter.add() }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    return Measurement(
        callsPerSecond: Double(counter.value) / seconds,
        allocationsPerCall: Double(await allocated.value) / Double(max(1, counter.value)))
}

func format(_ value: Double) -> String {
    let rounded = Int(value.rounded())
    var digits = String(rounded)
    var grouped = ""
    while digits.count > 3 {
        grouped = " " + digits.suffix(3) + grouped
        digits.removeLast(3)
    }
    return digits + grouped
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let server = WebSocketServer(
    configuration: .init(
        host: "127.0.0.1", port: 0,
        routes: {
            var routes = WebSocketRoutes()
            routes.add("/rpc", .jsonRPC(JSONRPCDemo.handler()))
            routes.add("/soap", .soap(SOAPCalculatorDemo.handler()))
            routes.add(
                "/echo",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    for try await message in inbound { try await outbound.send(message) }
                })
            return routes
        }()))
var serverTask: Task<Void, any Error>?
let url: String
if let external = options.url {
    url = external
} else {
    let (ports, port) = AsyncStream.makeStream(of: Int.self)
    serverTask = Task { try await server.run { port.yield($0.port ?? 0) } }
    var iterator = ports.makeAsyncIterator()
    url = "ws://127.0.0.1:\(await iterator.next() ?? 0)/rpc"
}

func report(_ name: String, _ measure: () async throws -> Measurement) async throws {
    var runs: [Measurement] = []
    for _ in 0..<options.runs { runs.append(try await measure()) }
    let rates = runs.map(\.callsPerSecond).sorted()
    let allocations = runs.map(\.allocationsPerCall).sorted()
    print(
        name + String(repeating: " ", count: max(1, 36 - name.count))
            + "\(format(rates[rates.count / 2])) /s  (\(format(rates.first!))-\(format(rates.last!)))"
            + "  \(fixed(allocations[allocations.count / 2])) allocations/call")
}

/// `value` with one decimal.
func fixed(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

print("jsonrpc-bench: \(url), subtract [n, 1], \(options.runs) runs of \(options.seconds) s per scenario, median (min-max)")
for (connections, callers) in [(1, 1), (1, 64), (16, 1), (16, 16)] {
    for callProtocol in options.protocols {
        let name = "\(callProtocol.rawValue) \(connections) connection\(connections == 1 ? "" : "s") x \(callers) caller\(callers == 1 ? "" : "s")"
        let target = url.replacingSuffix("/rpc", with: callProtocol.route)
        try await report(name) {
            try await run(callProtocol, url: target, connections: connections, callers: callers, seconds: options.seconds)
        }
    }
}
if options.url == nil {
    let echoURL = url.replacingSuffix("/rpc", with: "/echo")
    for connections in [1, 16] {
        try await report("floor: text echo, \(connections) x 1 in flight") {
            try await echo(url: echoURL, connections: connections, seconds: options.seconds)
        }
    }
}
server.shutdown()
_ = try? await serverTask?.value
