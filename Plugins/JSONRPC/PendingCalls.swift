import Synchronization

/// Our calls that await the peer's answer, by the id we gave them.
///
/// An answer may arrive before its caller starts waiting (the reader runs
/// concurrently with the caller), so a slot can be finished before it is awaited.
final class PendingCalls: Sendable {
    private enum Slot {
        case sent
        case waiting(CheckedContinuation<JSONValue, any Error>)
        case finished(Result<JSONValue, any Error>)
    }

    private struct State {
        var nextID = 1
        var slots: [Int: Slot] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Reserves an id for a call about to be sent; throws once the connection is closed.
    func open() throws(JSONRPCCallError) -> Int {
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.slots[id] = .sent
            return id
        }
        guard let id else { throw .connectionClosed }
        return id
    }

    /// Forgets a call that could not be sent.
    func discard(_ id: Int) {
        _ = state.withLock { $0.slots.removeValue(forKey: id) }
    }

    /// Waits for the answer to `id`: its result, its ``JSONRPCError``, or why there was none.
    func wait(for id: Int) async throws -> JSONValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                let ready: Result<JSONValue, any Error>? = state.withLock { state in
                    switch state.slots[id] {
                    case .sent?:
                        state.slots[id] = .waiting(continuation)
                        return nil
                    case .finished(let outcome)?:
                        state.slots[id] = nil
                        return outcome
                    case .waiting?, nil:
                        return .failure(JSONRPCCallError.connectionClosed)
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            complete(id, with: .failure(CancellationError()))
        }
    }

    /// Finishes the call `id`. Returns `false` when there is no such call (an
    /// unknown id, or an answer that came after a timeout).
    @discardableResult
    func complete(_ id: Int, with outcome: Result<JSONValue, any Error>) -> Bool {
        let (found, waiter): (Bool, CheckedContinuation<JSONValue, any Error>?) = state.withLock { state in
            switch state.slots[id] {
            case .sent?:
                state.slots[id] = .finished(outcome)
                return (true, nil)
            case .waiting(let continuation)?:
                state.slots[id] = nil
                return (true, continuation)
            case .finished?, nil:
                return (false, nil)
            }
        }
        waiter?.resume(with: outcome)
        return found
    }

    /// Fails every call with ``JSONRPCCallError/connectionClosed``, now and from now on.
    func closeAll() {
        let waiters: [CheckedContinuation<JSONValue, any Error>] = state.withLock { state in
            state.closed = true
            var waiters: [CheckedContinuation<JSONValue, any Error>] = []
            for (id, slot) in state.slots {
                switch slot {
                case .sent: state.slots[id] = .finished(.failure(JSONRPCCallError.connectionClosed))
                case .waiting(let continuation):
                    waiters.append(continuation)
                    state.slots[id] = nil
                case .finished: break
                }
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: JSONRPCCallError.connectionClosed) }
    }
}
