import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// The queue between a handler's task and its event loop: batching, and backpressure by bytes.
/// No channel here: the tests play the channel handler's part (`takeAll`, writability).
@Suite("OutboundQueue: batched sends, byte-bounded backpressure")
struct OutboundQueueTests {
    /// A queue on a real event loop whose drain only counts requests (the test takes the commands itself).
    static func makeQueue() -> (OutboundQueue, Locked<Int>, any EventLoop) {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let queue = OutboundQueue(eventLoop: loop)
        let drains = Locked(0)
        queue.attach { drains.withLock { $0 += 1 } }
        return (queue, drains, loop)
    }

    static func payloads(_ commands: [WebSocketOutboundCommand]) -> [Int] {
        commands.map { command in
            guard case .message(let message) = command else { return -1 }
            return message.data.readableBytes
        }
    }

    /// Yields until `condition` holds (a hang is caught by the caller's `withTimeout`).
    static func eventually(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    @Test("Small sends do not wait; one drain request covers the batch, which keeps its order")
    func batch() async throws {
        let (queue, drains, loop) = Self.makeQueue()
        for size in 1...50 { try await queue.send(.message(.binary(ByteBuffer(repeating: 1, count: size)))) }
        try await loop.submit {}.get()  // the drain request has run
        #expect(drains.value == 1)
        #expect(Self.payloads(queue.takeAll()) == Array(1...50))
        try await queue.send(.message(.binary(ByteBuffer(repeating: 1, count: 7))))
        try await loop.submit {}.get()
        #expect(drains.value == 2, "the first send after a drain asks for the next one")
    }

    @Test("A sender waits while more than the high watermark is queued, and goes on once the queue is drained")
    func waitsForDrain() async throws {
        try await withTimeout(20, "waiting sender") {
            let (queue, _, _) = Self.makeQueue()
            let big = OutboundQueue.highWatermark + 1
            try await queue.send(.message(.binary(ByteBuffer(repeating: 2, count: big))))  // room was there: queued
            let second = Task { try await queue.send(.message(.binary(ByteBuffer(repeating: 3, count: 5)))) }
            await Self.eventually { queue.waitingSenders == 1 }
            #expect(Self.payloads(queue.takeAll()) == [big], "the waiting message is not queued yet")
            queue.channelWritabilityChanged(true)  // what a drain reports after its flush
            try await second.value
            #expect(Self.payloads(queue.takeAll()) == [5])
        }
    }

    @Test("A channel that is not writable stops senders until it is writable again")
    func waitsForWritability() async throws {
        try await withTimeout(20, "unwritable channel") {
            let (queue, _, _) = Self.makeQueue()
            queue.channelWritabilityChanged(false)
            let sender = Task { try await queue.send(.message(.text("x"))) }
            await Self.eventually { queue.waitingSenders == 1 }
            #expect(queue.takeAll().isEmpty)
            queue.channelWritabilityChanged(true)
            try await sender.value
            #expect(Self.payloads(queue.takeAll()) == [1])
        }
    }

    @Test("After a close is queued, messages and pings throw connectionClosed; a close does not wait for room")
    func closeEndsSending() async throws {
        let (queue, _, _) = Self.makeQueue()
        queue.channelWritabilityChanged(false)
        try queue.enqueue(.close(.normalClosure, ""))
        await #expect(throws: WebSocketError.connectionClosed) { try await queue.send(.message(.text("late"))) }
        await #expect(throws: WebSocketError.connectionClosed) { try await queue.send(.ping(ByteBuffer())) }
        #expect(queue.takeAll().count == 1)
    }

    @Test("The engine's close state is mirrored: after the peer's close, messages still go and pings do not")
    func peerCloseAllowsAnswers() async throws {
        let (queue, _, _) = Self.makeQueue()
        queue.closeStateChanged(.closeReceived)
        try await queue.send(.message(.text("answer")))
        await #expect(throws: WebSocketError.connectionClosed) { try await queue.send(.ping(ByteBuffer())) }
        queue.closeStateChanged(.closed)
        await #expect(throws: WebSocketError.connectionClosed) { try await queue.send(.message(.text("late"))) }
    }

    @Test("When the connection goes, waiting senders and later sends throw connectionClosed")
    func detachFailsSenders() async throws {
        try await withTimeout(20, "detach") {
            let (queue, _, _) = Self.makeQueue()
            queue.channelWritabilityChanged(false)
            let sender = Task { try await queue.send(.message(.text("x"))) }
            await Self.eventually { queue.waitingSenders == 1 }
            queue.detach()
            await #expect(throws: WebSocketError.connectionClosed) { try await sender.value }
            await #expect(throws: WebSocketError.connectionClosed) { try await queue.send(.message(.text("y"))) }
            #expect(throws: WebSocketError.connectionClosed) { try queue.enqueue(.finish(.normalClosure, "")) }
        }
    }

    @Test("A waiting sender that is cancelled throws CancellationError and queues nothing")
    func cancelledSender() async throws {
        try await withTimeout(20, "cancellation") {
            let (queue, _, _) = Self.makeQueue()
            queue.channelWritabilityChanged(false)
            let sender = Task { try await queue.send(.message(.text("x"))) }
            await Self.eventually { queue.waitingSenders == 1 }
            sender.cancel()
            await #expect(throws: CancellationError.self) { try await sender.value }
            #expect(queue.waitingSenders == 0)
            queue.channelWritabilityChanged(true)
            #expect(queue.takeAll().isEmpty)
        }
    }
}
