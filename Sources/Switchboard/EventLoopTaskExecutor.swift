import NIOCore

/// An event loop as a Swift `TaskExecutor`: a job enqueued here runs on the loop's thread.
///
/// NIO makes its event loops serial executors (for actors), not task executors, so
/// a task cannot prefer one without this.
///
/// A job is normally queued behind the loop's other work, as any `execute` is. The
/// exception is a job enqueued inside ``holdingJobs(_:)``: the channel handler hands a
/// read's messages to the connection's reader inside it, and runs the reader's
/// resumption itself, with ``runHeldJobs()``, once the read is complete. The reader
/// then takes every message of the read without suspending, its answers go out with
/// the read's own writes and one flush, and no message costs a trip through the
/// loop's task queue. That is how a bare NIO handler works (read, handle, write, one
/// flush per read). Queued, a resumption and the drain of what it sent cost two such
/// trips per message: in a 16-byte ping-pong, the gap to bare NIO
/// (Benchmarks/NIOEcho/README.md). Running each resumption at once instead, inside the
/// read, was as fast for ping-pong and 40% slower for pipelined load: the reader then
/// suspended after every message.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop
    /// The loop's state, touched on its thread only (after `inEventLoop`), so no lock.
    private nonisolated(unsafe) var holding = false
    private nonisolated(unsafe) var held: [UnownedJob] = []
    /// Jobs enqueued from the loop's thread since the loop last read a socket for this executor.
    private nonisolated(unsafe) var jobsSincePoll = 0

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if eventLoop.inEventLoop {  // first: no other thread reads `holding` or `jobsSincePoll`
            if holding {
                held.append(job)
                return
            }
            // A job enqueued by a job of this loop: a `Task.yield()`, or one task waking another.
            // Such chains can keep the loop's task queue from ever emptying, and the loop from
            // ever reading (``LoopPollGate``): every so many, one waits for the loop's next poll.
            jobsSincePoll += 1
            if jobsSincePoll >= Self.jobsBetweenPolls {
                jobsSincePoll = 0
                LoopPollGate.afterNextPoll(on: eventLoop) { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
                return
            }
        }
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Jobs enqueued from the loop itself, with no read in between, after which one waits for a
    /// poll. 512: a chain of tasks holds the loop's reads back for well under a millisecond,
    /// and pays a pipe write and read (a few microseconds) per 512 jobs, below 1%.
    static let jobsBetweenPolls = 512

    /// Runs `body` on the event loop; a job enqueued here from this thread meanwhile (a reader
    /// it resumes) waits for ``runHeldJobs()``. Whoever holds must run them: the channel
    /// handler does at `channelReadComplete`, and when it leaves the pipeline.
    func holdingJobs<T>(_ body: () -> T) -> T {
        eventLoop.preconditionInEventLoop()
        jobsSincePoll = 0  // a read: the loop polled
        let outer = holding
        holding = true
        defer { holding = outer }
        return body()
    }

    /// Runs the held jobs, in the order they came. Call on the event loop, outside any Swift job.
    func runHeldJobs() {
        eventLoop.preconditionInEventLoop()
        // By index, then emptied in place: a copy of the array would make emptying it
        // allocate a new one, once per read (`jsonrpc-bench` counts allocations per call).
        var next = 0
        while next < held.count {
            let job = held[next]
            next += 1
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
        held.removeAll(keepingCapacity: true)
    }
}
