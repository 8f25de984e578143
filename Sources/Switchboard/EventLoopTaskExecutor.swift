import NIOCore

/// An event loop as a Swift `TaskExecutor`: a job enqueued here runs on the loop's thread.
///
/// NIO makes its event loops serial executors (for actors), not task executors, so
/// a task cannot prefer one without this.
///
/// A job is normally queued behind the loop's other work, as any `execute` is. The
/// exception is ``runningResumedJobsInline(_:)``: while the loop hands a message to a
/// connection's waiting reader, the reader's resumption runs at once, on this thread,
/// and the handler has answered before the loop goes on parsing the read. That is how
/// a bare NIO handler works (read, handle, write, one flush per read), and it saves
/// the two trips through the loop's task queue per message that a queued resumption
/// and its queued drain cost: in a 16-byte ping-pong, those trips were the whole gap
/// to bare NIO (Benchmarks/NIOEcho/README.md).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop
    /// Set, on the loop's thread only, while a job enqueued from that thread may run at once.
    /// Read only after `inEventLoop`, so no other thread touches it.
    private nonisolated(unsafe) var runsInline = false

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if eventLoop.inEventLoop && runsInline {
            // One level only: what the job itself resumes is queued as usual.
            runsInline = false
            defer { runsInline = true }
            job.runSynchronously(on: asUnownedTaskExecutor())
            return
        }
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `body` on the event loop so that a job it causes to be enqueued here (a reader
    /// it resumes) runs inside it, before `body` returns. Call only from event-loop code that
    /// is not itself running a Swift job, and that can take the resumed code running inside
    /// it: the channel handler calls it around ``InboundBuffer/yield(_:)``, which touches no
    /// handler state after resuming the reader.
    func runningResumedJobsInline<T>(_ body: () -> T) -> T {
        eventLoop.preconditionInEventLoop()
        let outer = runsInline
        runsInline = true
        defer { runsInline = outer }
        return body()
    }
}

/// One ``EventLoopTaskExecutor`` per loop of a group, made once, so a connection does not allocate its own.
struct EventLoopTaskExecutors: Sendable {
    private let executors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(_ group: any EventLoopGroup) {
        var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(loop) }
        self.executors = executors
    }

    /// The executor of `eventLoop` (a new one for a loop outside the group).
    func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors[ObjectIdentifier(eventLoop)] ?? EventLoopTaskExecutor(eventLoop)
    }
}
