import Synchronization

/// Our calls that await the peer's answer, by the id we gave them, with their deadlines:
/// the bookkeeping every request/response subprotocol (JSON-RPC, SOAP) needs on both ends.
///
/// An answer may arrive before its caller starts waiting (the reader runs
/// concurrently with the caller), so a slot can be finished before it is awaited.
/// Deadlines are kept by one sweeper task per connection that sleeps until
/// the earliest of them, instead of a timer task per call: with a steady
/// stream of calls under one timeout it wakes about once per timeout.
package final class PendingCalls<Answer: Sendable>: Sendable {
    private enum Progress {
        case sent
        case waiting(CheckedContinuation<Answer, any Error>)
        case finished(Result<Answer, any Error>)
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
            _ id: Int, with outcome: Result<Answer, any Error>
        )
            -> (found: Bool, waiter: CheckedContinuation<Answer, any Error>?)
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
    private let closedError: any Error & Sendable
    private let timeoutError: @Sendable (_ method: String, _ after: Duration) -> any Error

    /// - Parameters:
    ///   - closedError: what calls fail with once the connection is closed.
    ///   - timeoutError: what a call fails with when its deadline passes.
    package init(
        closedError: any Error & Sendable, timeoutError: @escaping @Sendable (_ method: String, _ after: Duration) -> any Error
    ) {
        self.closedError = closedError
        self.timeoutError = timeoutError
    }

    /// Reserves an id for a call about to be sent; throws once the connection is closed.
    package func open(method: String, timeout: Duration) throws -> Int {
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
        guard let id else { throw closedError }
        return id
    }

    /// Forgets a call that could not be sent.
    package func discard(_ id: Int) {
        _ = state.withLock { $0.slots.removeValue(forKey: id) }
    }

    /// Waits for the answer to `id`: its result, the peer's error, or why there was none.
    package func wait(for id: Int) async throws -> Answer {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Answer, any Error>) in
                let ready: Result<Answer, any Error>? = state.withLock { state in
                    switch state.slots[id]?.progress {
                    case .sent?:
                        state.slots[id]?.progress = .waiting(continuation)
                        return nil
                    case .finished(let outcome)?:
                        state.slots[id] = nil
                        return outcome
                    case .waiting?, nil:
                        return .failure(closedError)
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
    package func complete(_ id: Int, with outcome: Result<Answer, any Error>) -> Bool {
        let (found, waiter): (Bool, CheckedContinuation<Answer, any Error>?) = state.withLock { state in
            state.finish(id, with: outcome)
        }
        waiter?.resume(with: outcome)
        return found
    }

    /// The earliest call still awaiting its answer: where an answer that names no call goes,
    /// from a peer that answers in order without ids.
    package func oldest() -> Int? {
        state.withLock { state in
            state.slots.filter { if case .finished = $0.value.progress { false } else { true } }.keys.min()
        }
    }

    /// Fails every call with the closed error, now and from now on.
    package func closeAll() {
        let waiters: [CheckedContinuation<Answer, any Error>] = state.withLock { state in
            state.closed = true
            state.sweeper?.cancel()
            state.sweeper = nil
            state.sweepAt = nil
            return state.slots.keys.compactMap { state.finish($0, with: .failure(closedError)).1 }
        }
        for waiter in waiters { waiter.resume(throwing: closedError) }
    }

    /// Sleeps until `instant`, times out the calls due, and goes on until no call is pending.
    private func sweep(at instant: ContinuousClock.Instant) async {
        var instant = instant
        while true {
            do { try await Task.sleep(until: instant, clock: .continuous) } catch { return }  // replaced or closed
            let now = ContinuousClock.now
            let (expired, next): ([(CheckedContinuation<Answer, any Error>, any Error)], ContinuousClock.Instant?) = state.withLock { state in
                guard !Task.isCancelled else { return ([], nil) }
                var expired: [(CheckedContinuation<Answer, any Error>, any Error)] = []
                var next: ContinuousClock.Instant?
                for (id, slot) in state.slots {
                    if slot.deadline <= now {
                        let error = timeoutError(slot.method, slot.timeout)
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
