import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore

/// What a connection's handler sends, on its way from the handler's task to
/// the event loop, with byte-bounded backpressure.
///
/// A send queues its command and returns; the first command of a batch asks the
/// event loop to drain the queue, and the channel handler writes everything
/// queued by then with one flush. A sender suspends only while the connection
/// holds too much: more than ``highWatermark`` bytes queued here, or a channel
/// that is not writable (more than its own high watermark written and not yet
/// taken by the kernel). It resumes when the event loop has drained the queue
/// into a writable channel, or when the channel becomes writable again. So a
/// peer that does not read still stops its sender, after a bounded number of
/// bytes, and a fast peer costs one event-loop hop and one system call per
/// batch of messages instead of one per message.
///
/// Awaiting each write's completion (one `writeAndFlush` per message) was the
/// simpler way to get backpressure, and it cost a hop to the event loop and
/// back, a flush and about two context switches per message: most of the
/// server's CPU for small messages (Benchmarks/NIOEcho/README.md).
///
/// The price of not awaiting: a send that returned may still fail to reach
/// the peer (as with any write a kernel buffers). Errors surface on the
/// following sends: once the connection is closed or closing, they throw
/// ``WebSocketError/connectionClosed``.
final class OutboundQueue: Sendable {
    /// Bytes queued here above which a sender waits. As NIO's default channel high
    /// watermark: a batch of small messages never waits, a large message waits for
    /// the one before it to be handed to the channel.
    static let highWatermark = 64 * 1024

    private struct State {
        var commands: [WebSocketOutboundCommand] = []
        var queuedBytes = 0
        /// Drains the queue on the event loop; present while the channel handler is in the pipeline.
        var drain: (@Sendable () -> Void)?
        /// A drain is scheduled and has not yet taken the queue.
        var drainScheduled = false
        var channelWritable = true
        /// Data messages are still accepted: no close was queued, and the engine still sends them.
        var acceptsMessages = true
        /// Pings are still accepted: the close handshake has not begun.
        var acceptsPings = true
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0

        var mustWait: Bool { !channelWritable || queuedBytes > OutboundQueue.highWatermark }

        mutating func takeWaiters() -> [CheckedContinuation<Void, any Error>] {
            guard !waiters.isEmpty else { return [] }
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    private let state = NIOLockedValueBox(State())
    private let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    // MARK: The handler's task

    /// Queues `command` once the connection can take more; throws
    /// ``WebSocketError/connectionClosed`` if it no longer accepts it.
    func send(_ command: WebSocketOutboundCommand) async throws {
        while try !enqueue(command, unlessFull: true) {
            try await waitUntilWritable()
        }
    }

    /// Queues `command` without waiting for room: for the close that ends the connection,
    /// which must not wait behind a peer that does not read (the close timeout bounds it).
    func enqueue(_ command: WebSocketOutboundCommand) throws {
        _ = try enqueue(command, unlessFull: false)
    }

    /// Queues `command` and asks the event loop for a drain if none is pending; returns `false`,
    /// queueing nothing, when `unlessFull` and the connection holds too much already.
    private func enqueue(_ command: WebSocketOutboundCommand, unlessFull: Bool) throws -> Bool {
        let (queued, drain) = try state.withLockedValue { state throws -> (Bool, (@Sendable () -> Void)?) in
            guard let drain = state.drain else { throw WebSocketError.connectionClosed }
            switch command {
            case .message(let message):
                guard state.acceptsMessages else { throw WebSocketError.connectionClosed }
                if unlessFull && state.mustWait { return (false, nil) }
                state.queuedBytes += message.data.readableBytes
            case .ping(let payload):
                guard state.acceptsPings else { throw WebSocketError.connectionClosed }
                if unlessFull && state.mustWait { return (false, nil) }
                state.queuedBytes += payload.readableBytes
            case .close, .finish:
                state.acceptsMessages = false
                state.acceptsPings = false
            }
            state.commands.append(command)
            if state.drainScheduled { return (true, nil) }
            state.drainScheduled = true
            return (true, drain)
        }
        if let drain { eventLoop.execute(drain) }
        return queued
    }

    private func waitUntilWritable() async throws {
        let id = state.withLockedValue { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLockedValue { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    guard state.mustWait, state.drain != nil else { return .success(()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Senders suspended for room (for tests and diagnostics).
    var waitingSenders: Int { state.withLockedValue { $0.waiters.count } }

    // MARK: The event loop

    /// Attaches the channel handler: `drain` runs on the event loop when commands wait.
    func attach(drain: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.drain = drain }
    }

    /// The channel handler starts handling a read and drains the queue when the read is
    /// complete: sends until then need not ask the event loop for a drain of their own.
    /// Returns whether the handler took that on (`false`: a drain is already on its way,
    /// or the queue is detached).
    ///
    /// A reader on the connection's loop runs when the read is complete, just before that
    /// drain (``EventLoopTaskExecutor``), so its answers go out with the read's own writes,
    /// with one flush.
    func holdDrainUntilReadComplete() -> Bool {
        state.withLockedValue { state in
            guard state.drain != nil, !state.drainScheduled else { return false }
            state.drainScheduled = true
            return true
        }
    }

    /// Takes every queued command; the next send schedules a new drain.
    func takeAll() -> [WebSocketOutboundCommand] {
        state.withLockedValue { state in
            state.drainScheduled = false
            state.queuedBytes = 0
            defer { state.commands = [] }
            return state.commands
        }
    }

    /// The channel's writability changed (an event of the loop's poll); wakes waiting senders if there is room.
    func channelWritabilityChanged(_ writable: Bool) {
        resume(takeWaitersIfRoom(writable), with: .success(()))
    }

    /// A drain wrote the queue; `writable` is the channel's writability after its flush. Waiting
    /// senders that now have room go on after the event loop's next poll of its sockets
    /// (``LoopPollGate``): resumed by the drain itself, a sender faster than the kernel needs to
    /// push back would keep the loop's task queue from ever emptying, and the loop from reading.
    func drained(channelWritable writable: Bool) {
        let waiters = takeWaitersIfRoom(writable)
        guard !waiters.isEmpty else { return }
        LoopPollGate.afterNextPoll(on: eventLoop) { [self] in resume(waiters, with: .success(())) }
    }

    private func takeWaitersIfRoom(_ writable: Bool) -> [CheckedContinuation<Void, any Error>] {
        state.withLockedValue { state in
            state.channelWritable = writable
            return state.mustWait ? [] : state.takeWaiters()
        }
    }

    /// The engine's closing handshake went on: from now on, refuse what it would refuse.
    /// Senders waiting for room try again at once: one whose command is refused now throws
    /// instead of waiting for a peer that may never read again.
    func closeStateChanged(_ closeState: WebSocketEngine.CloseState) {
        resume(
            state.withLockedValue { state in
                state.acceptsPings = state.acceptsPings && closeState == .open
                state.acceptsMessages = state.acceptsMessages && (closeState == .open || closeState == .closeReceived)
                return state.takeWaiters()
            }, with: .success(()))
    }

    /// The connection is gone (or the handler left the pipeline): sends throw from now on, and waiting ones resume.
    func detach() {
        resume(
            state.withLockedValue { state in
                state.drain = nil
                state.commands.removeAll()
                state.queuedBytes = 0
                return state.takeWaiters()
            }, with: .failure(WebSocketError.connectionClosed))
    }

    private func resume(_ waiters: [CheckedContinuation<Void, any Error>], with result: Result<Void, any Error>) {
        for waiter in waiters { waiter.resume(with: result) }
    }
}
