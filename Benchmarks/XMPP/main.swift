// XMPP messages routed per second over loopback: `swift run -c release xmpp-bench [options]`.
//
//   --clients C,...   connected clients per scenario (default 2,1000)
//   --window W        messages each client keeps in flight (default 8)
//   --seconds S       measured seconds per run (default 2, after 0.5 s of warm-up)
//   --runs N          runs per scenario; the median is reported (default 5)
//   --url URL         an external server (e.g. Prosody's mod_websocket) instead of one in this
//                     process; its accounts must be user0...user(C-1), password `pw`, domain `localhost`
//
// C of our clients (`XMPPClient`), each logged in (SCRAM) as an account of its own, form a
// ring: client i sends chat messages to client i+1's full JID. Each starts with W messages in
// flight and sends one more for every message it receives, so C x W messages circulate and
// none is sent faster than the server routes them (XMPP has no flow control of its own: an
// open-loop flood only measures how fast a server drops). The figure is the messages received
// by all clients inside the measured window, per second. C = 2 is one pair; C = 1000 spreads
// the same work over many connections, which is what the routing table, presence-free full-JID
// lookups and the per-connection writers cost. Client and server share this machine's cores:
// compare runs on one machine (ours against Prosody side by side), not absolute numbers.
import NIOCore
import Switchboard
import SwitchboardCore
import Synchronization
import XMPP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

struct Options {
    var clients = [2, 1000]
    var window = 8
    var seconds = 2.0
    var runs = 5
    var url: String?

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.usage("\(flag) needs a value") }
            switch flag {
            case "--clients":
                clients = value.split(separator: ",").compactMap { Int($0) }
                guard !clients.isEmpty, clients.allSatisfy({ $0 >= 2 }) else { Self.usage("--clients takes counts of 2 or more") }
            case "--window":
                guard let number = Int(value), number > 0 else { Self.usage("--window takes a positive integer") }
                window = number
            case "--seconds":
                guard let number = Double(value), number > 0 else { Self.usage("--seconds takes a positive number") }
                seconds = number
            case "--runs":
                guard let number = Int(value), number > 0 else { Self.usage("--runs takes a positive integer") }
                runs = number
            case "--url": url = value
            default: Self.usage("unknown option \(flag)")
            }
        }
    }

    static func usage(_ problem: String) -> Never {
        print("xmpp-bench: \(problem)\nusage: xmpp-bench [--clients 2,1000] [--window W] [--seconds S] [--runs N] [--url ws://host:port/path]")
        exit(2)
    }
}

/// One run's shared state: clients logged in, the measured window, messages received in it.
final class Run: Sendable {
    let clients: Int
    let ready = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    /// Set when every client is in: the window is [start + warm-up, start + warm-up + seconds).
    let start = Mutex<ContinuousClock.Instant?>(nil)

    init(clients: Int) { self.clients = clients }

    /// Waits until every client is logged in; returns when the window opens and closes.
    func allReady(warmUp: Duration, window: Duration) async throws -> (ContinuousClock.Instant, ContinuousClock.Instant) {
        ready.add(1, ordering: .relaxed)
        while ready.load(ordering: .relaxed) < clients { try await Task.sleep(for: .milliseconds(5)) }
        let began = start.withLock { start in
            if start == nil { start = .now + warmUp }
            return start!
        }
        return (began, began + window)
    }
}

func measure(clients: Int, options: Options, url: String) async throws -> Double {
    let run = Run(clients: clients)
    let window = Duration.milliseconds(Int(options.seconds * 1000))
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<clients {
            group.addTask {
                let next = JID("user\((index + 1) % clients)@localhost/bench")!
                let client = XMPPClient(jid: JID("user\(index)@localhost/bench")!, password: "pw", timeout: .seconds(120)) { session in
                    let (began, end) = try await run.allReady(warmUp: .milliseconds(500), window: window)
                    for _ in 0..<options.window { try await session.send(message: "m", to: next) }
                    // Every client stops at the window's end by the clock: one that stopped on a
                    // message would leave the others waiting for messages that died with it.
                    try await withThrowingTaskGroup(of: Void.self) { ring in
                        ring.addTask { try await Task.sleep(until: end, clock: .continuous) }
                        ring.addTask {
                            for await stanza in session.incoming where stanza.name.local == "message" {
                                let now = ContinuousClock.now
                                if now >= began && now < end { run.received.add(1, ordering: .relaxed) }
                                try await session.send(message: "m", to: next)
                            }
                        }
                        try await ring.next()
                        ring.cancelAll()
                    }
                }
                do {
                    _ = try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [XMPPServer.token])) {
                        inbound, outbound, context in
                        try await client.handle(inbound, outbound, context: context)
                    }
                } catch {
                    run.failures.withLock { $0.append("client \(index): \(error)") }
                }
            }
        }
        try await group.waitForAll()
    }
    let failures = run.failures.withLock { $0 }
    if !failures.isEmpty {
        // A client that failed leaves the ring broken: the figure would mean nothing.
        print("xmpp-bench: \(failures.count) clients failed, first: \(failures[0])")
        exit(1)
    }
    return Double(run.received.load(ordering: .relaxed)) / options.seconds
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
var server: WebSocketServer?
var serverTask: Task<Void, any Error>?
let url: String
if let external = options.url {
    url = external
} else {
    let accounts = InMemoryAccountStore()
    // Few SCRAM iterations: the benchmark measures routing, not a thousand logins' key derivation.
    for index in 0..<(options.clients.max() ?? 2) { accounts.add("user\(index)", password: "pw", iterations: 64) }
    var routes = WebSocketRoutes()
    // The stanza rate limit is lifted: the ring sends as fast as the server routes.
    let xmpp = XMPPServer(configuration: XMPPConfiguration(maxStanzasPerSecond: 10_000_000), accounts: accounts)
    routes.add("/xmpp", .xmpp(xmpp))
    let local = WebSocketServer(configuration: .init(host: "127.0.0.1", port: 0, routes: routes))
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    serverTask = Task { try await local.run { portContinuation.yield($0.port ?? 0) } }
    url = "ws://127.0.0.1:\(await ports.first { _ in true } ?? 0)/xmpp"
    server = local
}

print(
    "xmpp-bench: \(url), a ring of clients, \(options.window) messages in flight each, \(options.runs) runs of \(options.seconds) s, median (min-max)"
)
for clients in options.clients {
    var rates: [Double] = []
    for _ in 0..<options.runs { rates.append(try await measure(clients: clients, options: options, url: url)) }
    rates.sort()
    print("\(clients) clients: \(Int(rates[rates.count / 2])) messages routed/s (\(Int(rates.first!))-\(Int(rates.last!)))")
}
server?.shutdown()
_ = try? await serverTask?.value
