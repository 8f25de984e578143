import Synchronization

/// Work a connection's handler starts that lasts as long as the connection (a subscription
/// pushing notifications), under a bound, all cancelled when the connection closes.
///
/// Without the bound a peer could start unbounded work with calls that return at once
/// (100,000 JSON-RPC `subscribe` calls held 434 MiB before it existed).
package final class BackgroundTasks: Sendable {
    /// Why ``start(_:onError:)`` refused: the connection already runs `limit` tasks.
    package struct LimitReached: Error {
        package let limit: Int
        /// Whether this is the connection's first refusal (worth a log line at info; later ones at debug).
        package let isFirst: Bool
    }

    private struct State {
        var nextID = 0
        var running: [Int: Task<Void, Never>] = [:]
        var closed = false
        var refused = false
    }

    private let limit: Int
    private let state = Mutex(State())

    package init(limit: Int) {
        precondition(limit > 0, "the background task limit must be positive")
        self.limit = limit
    }

    /// Starts `body`, cancelled at once when the connection has already closed; an error it
    /// throws ends it and goes to `onError`.
    @discardableResult
    package func start(
        _ body: @escaping @Sendable () async throws -> Void, onError: @escaping @Sendable (any Error) -> Void
    ) throws(LimitReached) -> Task<Void, Never> {
        try state.withLock { state throws(LimitReached) in
            guard state.running.count < limit else {
                defer { state.refused = true }
                throw LimitReached(limit: limit, isFirst: !state.refused)
            }
            let id = state.nextID
            state.nextID += 1
            let task = Task { [weak self] in
                do { try await body() } catch { onError(error) }
                _ = self?.state.withLock { $0.running.removeValue(forKey: id) }
            }
            if state.closed { task.cancel() } else { state.running[id] = task }
            return task
        }
    }

    /// Cancels every task, now and from now on.
    package func cancelAll() {
        let running: [Task<Void, Never>] = state.withLock { state in
            state.closed = true
            defer { state.running.removeAll() }
            return Array(state.running.values)
        }
        for task in running { task.cancel() }
    }
}
