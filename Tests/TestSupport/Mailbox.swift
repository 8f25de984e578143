import Synchronization

/// Messages received, handed out one at a time with a bounded wait.
public final class Mailbox: Sendable {
    private struct State {
        var messages: [String] = []
        var waiter: (id: Int, continuation: CheckedContinuation<String?, Never>)?
        var nextWaiter = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    public func put(_ message: String) {
        let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.messages.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    public func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// The next message, or `nil` if none arrives within `timeout` (or the connection ended).
    public func next(within timeout: Duration) async -> String? {
        await withCheckedContinuation { continuation in
            let (ready, id): (String??, Int) = state.withLock { state in
                if !state.messages.isEmpty { return (.some(state.messages.removeFirst()), 0) }
                if state.closed { return (.some(nil), 0) }
                state.nextWaiter += 1
                state.waiter = (state.nextWaiter, continuation)
                return (nil, state.nextWaiter)
            }
            if let ready {
                continuation.resume(returning: ready)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { state -> CheckedContinuation<String?, Never>? in
                    guard let waiter = state.waiter, waiter.id == id else { return nil }
                    state.waiter = nil
                    return waiter.continuation
                }
                expired?.resume(returning: nil)
            }
        }
    }
}
