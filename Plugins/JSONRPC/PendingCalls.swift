import Synchronization

/// Our calls that await the peer's answer, by the id we gave them, with their deadlines.
///
/// An answer may arrive before its caller starts waiting (the reader runs
/// concurrently with the caller), so a slot can be finished before it is awaited.
/// Deadlines are kept by one sweeper task per connection that sleeps until
/// the earliest of them, instead of a timer task per call: with a steady
/// stream of calls under one timeout it wakes about once per timeout.
final class PendingCalls: Sendable {
    private enum Progress {
        case sent
        case waiting(CheckedContinuation<JSONValue, any Error>)
        case finished(Result<JSONValue, any Error>)
    }

    private struct Slot {
        var progress: Progress
        var method: String
        var timeout: Duration
        var deadline: ContinuousClock.Instant
    }

    private struct State {
        var nextID = 1
        var slots: [Int: Slot] = [:]
        var closed = false
        /// When the sweeper wakes next, if it is running.
        var sweepAt: ContinuousClock.Instant?
        var sweeper: Task<Void, Never>?

        /// Records the outcome of `id`: for its waiter to take now, or for a caller that has not started waiting.
        mutating func finish(
            _ id: Int, with outcome: Result<JSONValue, any Error>
        )
            -> (found: Bool, waiter: CheckedContinuation<JSONValue, any Error>?)
        {
            switch slots[id]?.progress {
            case .sent?:
                slots[id]?.progress = .finished(outcome)
                return (true, nil)
            case .waiting(let continuation)?:
                slots[id] = nil
                return (true, continuation)
            case .finished?, nil:
                return (false, nil)
            }
        }
    }

    private let state = Mutex(State())

    /// Reserves an id for a call about to be sent; throws once the connection is closed.
    func open(method: String, timeout: Duration) throws(JSONRPCCallError) -> Int {
        let deadline = ContinuousClock.now + timeout
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.slots[id] = Slot(progress: .sent, method: method, timeout: timeout, deadline: deadline)
            if state.sweepAt.map({ deadline < $0 }) ?? true {
                state.sweeper?.cancel()
                state.sweepAt = deadline
                state.sweeper = Task { [weak self] in await self?.sweep(at: deadline) }
            }
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
                    switch state.slots[id]?.progress {
                    case .sent?:
                        state.slots[id]?.progress = .waiting(continuation)
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
            state.finish(id, with: outcome)
        }
        waiter?.resume(with: outcome)
        return found
    }

    /// Fails every call with ``JSONRPCCallError/connectionClosed``, now and from now on.
    func closeAll() {
        let waiters: [CheckedContinuation<JSONValue, any Error>] = state.withLock { state in
            state.closed = true
            state.sweeper?.cancel()
            state.sweeper = nil
            state.sweepAt = nil
            return state.slots.keys.compactMap { state.finish($0, with: .failure(JSONRPCCallError.connectionClosed)).1 }
        }
        for waiter in waiters { waiter.resume(throwing: JSONRPCCallError.connectionClosed) }
    }

    /// Sleeps until `instant`, times out the calls due, and goes on until no call is pending.
    private func sweep(at instant: ContinuousClock.Instant) async {
        var instant = instant
        while true {
            do { try await Task.sleep(until: instant, clock: .continuous) } catch { return }  // replaced or closed
            let now = ContinuousClock.now
            let (expired, next): ([(CheckedContinuation<JSONValue, any Error>, any Error)], ContinuousClock.Instant?) = state.withLock { state in
                guard !Task.isCancelled else { return ([], nil) }
                var expired: [(CheckedContinuation<JSONValue, any Error>, any Error)] = []
                var next: ContinuousClock.Instant?
                for (id, slot) in state.slots {
                    if slot.deadline <= now {
                        let error = JSONRPCCallError.timedOut(method: slot.method, after: slot.timeout)
                        if let waiter = state.finish(id, with: .failure(error)).1 { expired.append((waiter, error)) }
                    } else if case .finished = slot.progress {
                        continue
                    } else {
                        next = min(next ?? slot.deadline, slot.deadline)
                    }
                }
                state.sweepAt = next
                if next == nil { state.sweeper = nil }
                return (expired, next)
            }
            for (waiter, error) in expired { waiter.resume(throwing: error) }
            guard let next else { return }
            instant = next
        }
    }
}
