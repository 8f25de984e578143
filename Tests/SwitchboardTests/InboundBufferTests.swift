import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// The buffer between the event loop and a handler's `for await`: order, end, backpressure by count, cancellation.
/// No channel here: the tests play the event loop's part (`yield`, `finish`) and count demand calls.
@Suite("InboundBuffer: messages to one reader, count-bounded backpressure")
struct InboundBufferTests {
    static func message(_ n: Int) -> WebSocketMessage { .binary(ByteBuffer(integer: UInt32(n))) }
    static func number(_ message: WebSocketMessage?) -> Int? {
        message.flatMap { $0.data.getInteger(at: $0.data.readerIndex, as: UInt32.self) }.map(Int.init)
    }

    /// Yields until `condition` holds (a hang is caught by the caller's `withTimeout`).
    static func eventually(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    @Test("Messages come out in order; after finish the buffered ones still do, then nil, every time")
    func orderAndEnd() async throws {
        let buffer = InboundBuffer(bufferedMessages: 100)
        for n in 1...10 { #expect(buffer.yield(Self.message(n))) }
        buffer.finish()
        buffer.yield(Self.message(11))  // after the end: dropped, as the next lines check
        var seen: [Int] = []
        for try await message in buffer { seen.append(Self.number(message) ?? -1) }
        #expect(seen == Array(1...10))
        #expect(try await buffer.next() == nil)
    }

    @Test("finish(throwing:) delivers the buffered messages, then throws")
    func endWithError() async throws {
        let buffer = InboundBuffer(bufferedMessages: 4)
        buffer.yield(Self.message(1))
        buffer.finish(throwing: WebSocketError.connectionClosed)
        #expect(Self.number(try await buffer.next()) == 1)
        await #expect(throws: WebSocketError.self) { try await buffer.next() }
    }

    @Test("A waiting reader gets the next message directly, and the end")
    func waitingReader() async throws {
        try await withTimeout(20, "waiting reader") {
            let buffer = InboundBuffer(bufferedMessages: 4)
            let reader = Task { try await buffer.next() }
            await Self.eventually { buffer.readerWaits }
            #expect(buffer.yield(Self.message(7)))
            let first = try await reader.value
            #expect(Self.number(first) == 7)
            let ender = Task { try await buffer.next() }
            await Self.eventually { buffer.readerWaits }
            buffer.finish()
            let end = try await ender.value
            #expect(end == nil)
        }
    }

    @Test("The producer is told to stop at the high watermark, and asked once for more below the low one")
    func backpressure() async throws {
        let buffer = InboundBuffer(bufferedMessages: 8)  // stop at 8, go on below 2
        let demands = Locked(0)
        buffer.onDemand { demands.withLock { $0 += 1 } }
        for n in 1...7 { #expect(buffer.yield(Self.message(n)), "room for message \(n)") }
        #expect(!buffer.yield(Self.message(8)), "the eighth fills the buffer")
        #expect(!buffer.yield(Self.message(9)), "a message already on its way is kept, and the stop holds")
        for n in 1...7 {
            #expect(Self.number(try await buffer.next()) == n)
            #expect(demands.value == 0, "still at or above the low watermark after \(n) taken")
        }
        #expect(Self.number(try await buffer.next()) == 8)  // one left: below the low watermark of 2
        #expect(demands.value == 1)
        #expect(buffer.yield(Self.message(10)), "the producer may go on")
        #expect(Self.number(try await buffer.next()) == 9)
        #expect(Self.number(try await buffer.next()) == 10)
        #expect(demands.value == 1, "no stop, so no second demand")
    }

    @Test("Large messages stop the producer by bytes before the count is reached, and one larger than the bound still passes")
    func byteBackpressure() async throws {
        let buffer = InboundBuffer(bufferedMessages: 16, bufferedBytes: 1000)  // stop at 1000 bytes, go on below 250
        let demands = Locked(0)
        buffer.onDemand { demands.withLock { $0 += 1 } }
        func message(_ size: Int) -> WebSocketMessage { .binary(ByteBuffer(repeating: 1, count: size)) }
        #expect(buffer.yield(message(400)))
        #expect(buffer.yield(message(400)))
        #expect(!buffer.yield(message(400)), "1200 bytes buffered: stop, three messages short of the count")
        #expect(buffer.buffered == (messages: 3, bytes: 1200))
        _ = try await buffer.next()
        _ = try await buffer.next()
        #expect(demands.value == 0, "400 bytes left: not below a quarter of the bound")
        _ = try await buffer.next()
        #expect(demands.value == 1)
        #expect(!buffer.yield(message(5000)), "a message past the bound alone is taken, and stops the producer")
        #expect(try await buffer.next()?.data.readableBytes == 5000)
        #expect(demands.value == 2)
        #expect(buffer.buffered == (messages: 0, bytes: 0))
    }

    @Test("Cancelling a waiting reader throws CancellationError and leaves later messages readable")
    func cancellation() async throws {
        try await withTimeout(20, "cancelled reader") {
            let buffer = InboundBuffer(bufferedMessages: 4)
            let reader = Task { try await buffer.next() }
            await Self.eventually { buffer.readerWaits }
            reader.cancel()
            await #expect(throws: CancellationError.self) { try await reader.value }
            #expect(!buffer.readerWaits)
            buffer.yield(Self.message(3))
            let later = try await buffer.next()
            #expect(Self.number(later) == 3)
        }
    }
}
