import NIOCore
import Switchboard
import SwitchboardCore
import Synchronization

/// A value shared between tasks under a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

struct ExampleTimeout: Error {}

/// Runs a server for `routes` on 127.0.0.1, port 0, in a task group; calls `body`
/// with the port; then stops the server. The whole is bounded by `seconds`.
func withServer(_ routes: WebSocketRoutes, seconds: Double = 20, _ body: @escaping @Sendable (_ port: Int) async throws -> Void) async throws {
    let server = WebSocketServer(configuration: .init(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1)))
    try await withThrowingTaskGroup(of: Void.self) { group in
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        group.addTask {
            defer { portContinuation.finish() }
            do { try await server.run { portContinuation.yield($0.port ?? 0) } } catch is CancellationError {}
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw ExampleTimeout()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { return }
        group.addTask {
            try await body(port)
            throw CancellationError()  // done: ends the group, which cancels the server and the timer
        }
        do {
            while try await group.next() != nil {}
        } catch is CancellationError {
            group.cancelAll()
        } catch {
            group.cancelAll()
            throw error
        }
    }
}
