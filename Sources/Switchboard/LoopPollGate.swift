import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs work on an event loop once the loop has next polled its sockets.
///
/// A NIO event loop runs queued tasks until none are left, and only then polls its sockets.
/// A handler task on the loop (``WebSocketHandlerExecution/eventLoop``) that sends faster than
/// the kernel needs to push back makes a chain of tasks that never ends: it fills the
/// ``OutboundQueue``, the drain task writes it, the drain resumes the sender, the sender fills
/// the queue again. The loop then reads nothing, on that connection or any other of the loop,
/// for as long as the sender sends: the peer's messages wait, and its pongs with them, so the
/// sender's own heartbeat closed it with 1011 after `pingTimeout` (FullDuplexTests).
///
/// The gate breaks such chains: a sender waiting for room is resumed here rather than by the
/// drain itself. Each loop has a pipe whose read end is one of the loop's channels; the first
/// work queued writes a byte to it, and the work runs when the loop reads that byte, which it
/// does only when it polls. Every waiting sender of the loop waits for the same poll, so the
/// loop's task queue empties and the poll comes (a timer could not promise that: one that
/// expires while other tasks still run is run with them). It costs a pipe write and read per
/// poll that has waiters, for senders that already wait on 64 KiB of their own bytes.
///
/// Loops that cannot host a pipe channel (`EmbeddedEventLoop`) run the work at once.
final class LoopPollGate: @unchecked Sendable {
    // @unchecked: `waiting` and `armed` are touched on the loop's thread only.
    private enum Slot {
        case starting
        case ready(LoopPollGate)
        case unsupported
    }

    private static let gates = NIOLockedValueBox<[ObjectIdentifier: Slot]>([:])

    private let writeEnd: CInt
    private var waiting: [() -> Void] = []
    /// A byte is in the pipe and not yet read.
    private var armed = false

    private init(writeEnd: CInt) { self.writeEnd = writeEnd }

    /// Runs `work` on `eventLoop` after its next poll of its sockets. Call on the loop.
    static func afterNextPoll(on eventLoop: any EventLoop, _ work: @escaping () -> Void) {
        eventLoop.preconditionInEventLoop()
        let key = ObjectIdentifier(eventLoop)
        let slot = gates.withLockedValue { gates -> Slot? in
            if let slot = gates[key] { return slot }
            gates[key] = .starting
            return nil
        }
        switch slot {
        case .ready(let gate): gate.enqueue(work)
        case .starting, .unsupported: work()
        case nil:
            start(on: eventLoop, key: key)
            work()  // the gate is not open yet: this once, at once
        }
    }

    private func enqueue(_ work: @escaping () -> Void) {
        waiting.append(work)
        guard !armed else { return }
        armed = true
        var byte: UInt8 = 1
        // Non-blocking; one byte in an empty pipe always fits.
        _ = write(writeEnd, &byte, 1)
    }

    /// The loop read the pipe: it polled.
    fileprivate func polled() {
        armed = false
        let work = waiting
        waiting.removeAll(keepingCapacity: true)
        for item in work { item() }
    }

    private static func start(on eventLoop: any EventLoop, key: ObjectIdentifier) {
        var ends: [CInt] = [0, 0]
        guard let bootstrap = NIOPipeBootstrap(validatingGroup: eventLoop), pipe(&ends) == 0 else {
            gates.withLockedValue { $0[key] = .unsupported }
            return
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        let gate = LoopPollGate(writeEnd: writeEnd)
        bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReadHandler(gate: gate, key: key)) }
            }
            .takingOwnershipOfDescriptor(input: readEnd)
            .whenComplete { result in
                switch result {
                case .success: gates.withLockedValue { $0[key] = .ready(gate) }
                case .failure:
                    close(readEnd)
                    close(writeEnd)
                    gates.withLockedValue { $0[key] = .unsupported }
                }
            }
    }

    /// The pipe's read end: each read is a poll; the loop's end closes it.
    private final class ReadHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let gate: LoopPollGate
        let key: ObjectIdentifier

        init(gate: LoopPollGate, key: ObjectIdentifier) {
            self.gate = gate
            self.key = key
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { gate.polled() }

        func channelInactive(context: ChannelHandlerContext) {
            LoopPollGate.gates.withLockedValue { $0[key] = nil }
            gate.polled()
            close(gate.writeEnd)
        }
    }
}
