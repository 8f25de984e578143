import NIOCore
import Switchboard

/// The server did not report a listening address.
public struct ServerDidNotStart: Error {}

/// Runs a server for `configuration` (use host 127.0.0.1, port 0) in a task group,
/// calls `body` with it and its port, then cancels the server and waits for it to stop.
/// The whole is bounded by `seconds`, so a hang fails the test instead of hanging the run.
@discardableResult
public func withLoopbackServer<T: Sendable>(
    _ configuration: WebSocketServerConfiguration, seconds: Double = 60,
    _ body: @escaping @Sendable (_ server: WebSocketServer, _ port: Int) async throws -> T
) async throws -> T {
    let server = WebSocketServer(configuration: configuration)
    let result = Locked<T?>(nil)
    try await withThrowingTaskGroup(of: Void.self) { group in
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        group.addTask {
            defer { portContinuation.finish() }
            do { try await server.run { portContinuation.yield($0.port ?? 0) } } catch is CancellationError {}
        }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TestTimeout(what: "test body within \(seconds) s")
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            group.cancelAll()
            throw ServerDidNotStart()
        }
        group.addTask {
            let value = try await body(server, port)
            result.withLock { $0 = value }
            throw CancellationError()  // done: ends the group, which stops the server and the timer
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
    guard let value = result.value else { throw CancellationError() }
    return value
}
