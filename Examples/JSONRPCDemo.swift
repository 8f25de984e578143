import JSONRPC
import Synchronization

/// The demo service `switchboard serve` mounts at `/rpc` (an example, not part of the JSONRPC product): the methods the
/// examples of the JSON-RPC 2.0 specification call, and a subscription.
///
/// - `subtract`: `[minuend, subtrahend]` or `{"minuend", "subtrahend"}`, integers.
/// - `sum`: an array of integers.
/// - `get_data`: `["hello", 5]`.
/// - `update`, `notify_hello`, `notify_sum`: accept their parameters and return
///   `null` (the examples send them as notifications, which are not answered).
/// - `subscribe`: `[interval_ms, count]` or by name, defaults 1000 ms and 10;
///   answers a subscription id, then sends `count` notifications
///   `tick {"subscription": id, "n": 1...}`, one per interval.
/// - `unsubscribe`: `[id]`; answers whether that subscription of this connection was running.
///
/// `foobar` and `foo.get` are deliberately absent: the examples expect `-32601` for them.
public enum JSONRPCDemo {
    /// A handler serving the demo methods.
    public static func handler(configuration: JSONRPCConfiguration = JSONRPCConfiguration()) -> JSONRPCHandler {
        JSONRPCHandler(methods: methods(), configuration: configuration)
    }

    /// The demo methods; each call makes a separate set of subscriptions.
    public static func methods() -> JSONRPCMethods {
        var methods = JSONRPCMethods()
        // Swift traps on integer overflow, and a trap ends the whole server: every
        // sum a peer can choose is checked.
        methods.register("subtract", parameters: ["minuend", "subtrahend"]) { (p: Subtraction, _) in
            let (difference, overflow) = p.minuend.subtractingReportingOverflow(p.subtrahend)
            guard !overflow else { throw JSONRPCError.invalidParams("the difference does not fit a 64-bit integer") }
            return difference
        }
        methods.register("sum") { (numbers: [Int], _) in try checkedSum(numbers) }
        methods.register("get_data") { _ in ["hello", 5] as JSONValue }
        methods.register("update") { (_: [JSONValue], _) in }
        methods.register("notify_hello") { (_: [JSONValue], _) in }
        methods.register("notify_sum") { (numbers: [Int], _) in _ = try checkedSum(numbers) }

        let subscriptions = Subscriptions()
        methods.register("subscribe", parameters: ["interval_ms", "count"]) { (request: Subscription, peer) in
            try subscriptions.start(request, for: peer)
        }
        methods.register("unsubscribe", parameters: ["subscription"]) { (request: Unsubscription, peer) in
            subscriptions.stop(request.subscription, for: peer)
        }
        return methods
    }

    static func checkedSum(_ numbers: [Int]) throws(JSONRPCError) -> Int {
        var total = 0
        for number in numbers {
            let (next, overflow) = total.addingReportingOverflow(number)
            guard !overflow else { throw .invalidParams("the sum does not fit a 64-bit integer") }
            total = next
        }
        return total
    }

    struct Subtraction: Decodable, Sendable {
        var minuend: Int
        var subtrahend: Int
    }

    struct Subscription: Decodable, Sendable {
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // The parameter's name on the wire.
        var interval_ms: Int?
        var count: Int?
    }

    struct Unsubscription: Decodable, Sendable {
        var subscription: String
    }

    /// Running subscriptions, by id, with the connection that owns each.
    final class Subscriptions: Sendable {
        private struct State {
            var next = 1
            var running: [String: (owner: ObjectIdentifier, task: Task<Void, Never>)] = [:]
        }

        private let state = Mutex(State())

        func start(_ request: Subscription, for peer: JSONRPCPeer) throws(JSONRPCError) -> String {
            let interval = request.interval_ms ?? 1000
            let count = request.count ?? 10
            guard (10...60_000).contains(interval) else { throw .invalidParams("'interval_ms' must be from 10 to 60000") }
            guard (1...100_000).contains(count) else { throw .invalidParams("'count' must be from 1 to 100000") }
            let owner = ObjectIdentifier(peer)
            return try state.withLock { state throws(JSONRPCError) in
                let id = "sub-\(state.next)"
                // Throws once the connection runs as many background tasks as it may.
                let task = try peer.startTask { [weak self] in
                    defer { self?.remove(id) }
                    for n in 1...count {
                        try await Task.sleep(for: .milliseconds(interval))
                        try await peer.notify("tick", ["subscription": .string(id), "n": .integer(n)] as JSONValue)
                    }
                }
                state.next += 1
                state.running[id] = (owner, task)
                return id
            }
        }

        func stop(_ id: String, for peer: JSONRPCPeer) -> Bool {
            let task: Task<Void, Never>? = state.withLock { state in
                guard let entry = state.running[id], entry.owner == ObjectIdentifier(peer) else { return nil }
                state.running[id] = nil
                return entry.task
            }
            task?.cancel()
            return task != nil
        }

        private func remove(_ id: String) {
            _ = state.withLock { $0.running.removeValue(forKey: id) }
        }
    }
}
