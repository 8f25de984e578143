import Synchronization

/// Bounds the peer's calls that run at once on one connection, and those waiting in line
/// (JSON-RPC's and SOAP's alike).
///
/// The reader ``admit(_:)``s each call: it either gets to start a worker for
/// it, or the call waits in line, or (line full) the reader itself waits,
/// which stops reading the connection: backpressure, nothing dropped. A worker
/// that finishes takes the next call in line itself, so at most
/// `maxRunning` workers exist. Because the reader keeps reading while calls
/// wait in line, answers to our own calls and the peer's close still get
/// through while every worker is busy, up to a full line.
package final class CallScheduler<Job: Sendable>: Sendable {
    package enum Admission {
        /// Start a worker for the job.
        case start(Job)
        /// The job waits in line for a worker.
        case queued
        /// The connection is closing: drop the job.
        case closed
    }

    private struct State {
        var running = 0
        var line: [Job] = []
        var readerWaiting: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let maxRunning: Int
    private let maxWaiting: Int
    private let state: Mutex<State>

    package init(maxRunning: Int, maxWaiting: Int) {
        self.maxRunning = maxRunning
        self.maxWaiting = maxWaiting
        self.state = Mutex(State())
    }

    /// Admits a call, waiting while both the workers and the line are full.
    package func admit(_ job: Job) async -> Admission {
        while true {
            let admission: Admission? = state.withLock { state in
                if state.closed { return .closed }
                if state.running < maxRunning {
                    state.running += 1
                    return .start(job)
                }
                if state.line.count < maxWaiting {
                    state.line.append(job)
                    return .queued
                }
                return nil
            }
            if let admission { return admission }
            if Task.isCancelled { return .closed }
            await waitForRoom()
        }
    }

    /// Admits `job` and, when it may start, adds a worker to `group` that runs it with
    /// `execute`, then takes the next jobs in line until there are none.
    package func schedule(
        _ job: Job, in group: inout ThrowingDiscardingTaskGroup<any Error>, execute: @escaping @Sendable (Job) async -> Void
    ) async {
        switch await admit(job) {
        case .start(let first):
            group.addTask {
                var job: Job? = first
                while let current = job {
                    await execute(current)
                    job = self.next()
                }
            }
        case .queued, .closed:
            break
        }
    }

    /// Called by a worker that finished a job: the next job for it, or `nil` to end.
    package func next() -> Job? {
        let (job, reader): (Job?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            let reader = state.readerWaiting
            state.readerWaiting = nil
            if !state.closed, !state.line.isEmpty {
                return (state.line.removeFirst(), reader)
            }
            state.running -= 1
            return (nil, reader)
        }
        reader?.resume()
        return job
    }

    /// Drops the line and lets a waiting reader go; every later admission is `.closed`.
    package func close() {
        let reader: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.closed = true
            state.line.removeAll()
            defer { state.readerWaiting = nil }
            return state.readerWaiting
        }
        reader?.resume()
    }

    private func waitForRoom() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let roomAlready = state.withLock { state in
                    if state.closed || state.running < maxRunning || state.line.count < maxWaiting || Task.isCancelled { return true }
                    state.readerWaiting = continuation
                    return false
                }
                if roomAlready { continuation.resume() }
            }
        } onCancel: {
            let reader: CheckedContinuation<Void, Never>? = state.withLock { state in
                defer { state.readerWaiting = nil }
                return state.readerWaiting
            }
            reader?.resume()
        }
    }
}
