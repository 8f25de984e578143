import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// The executor that runs handlers on their event loop, and how the channel handler uses it:
/// a reader resumed during a read runs when the read is complete, and takes the whole read at once.
@Suite("EventLoopTaskExecutor: readers resumed during a read run at its end")
struct EventLoopTaskExecutorTests {
    static func message(_ n: Int) -> WebSocketMessage { .binary(ByteBuffer(integer: UInt32(n))) }

    @Test("A reader resumed inside holdingJobs waits for runHeldJobs, then takes every message of the read without suspending")
    func heldUntilReadComplete() async throws {
        try await withTimeout(20, "held reader") {
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let executor = EventLoopTaskExecutor(loop)
            let buffer = InboundBuffer(bufferedMessages: 64)
            let seen = Locked<[Int]>([])
            let reader = Task(executorPreference: executor) {
                for try await message in buffer {
                    let n = message.data.getInteger(at: message.data.readerIndex, as: UInt32.self).map(Int.init) ?? -1
                    #expect(MultiThreadedEventLoopGroup.currentEventLoop === loop, "the reader runs on its loop")
                    seen.withLock { $0.append(n) }
                }
            }
            while !buffer.readerWaits { await Task.yield() }
            let (duringRead, afterRun) = try await loop.submit { () -> ([Int], [Int]) in
                executor.holdingJobs {
                    for n in 1...3 { buffer.yield(Self.message(n)) }
                }
                let duringRead = seen.value  // the read is not complete yet: the reader has not run
                executor.runHeldJobs()  // what channelReadComplete does
                return (duringRead, seen.value)
            }.get()
            #expect(duringRead == [])
            #expect(afterRun == [1, 2, 3], "the reader ran inside runHeldJobs and took the whole read")
            #expect(buffer.readerWaits, "and waits again for the next read")
            buffer.finish()
            try await reader.value
        }
    }

    @Test("Outside holdingJobs, and from other threads, a job is queued on the loop as usual")
    func queuedOtherwise() async throws {
        try await withTimeout(20, "queued reader") {
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let executor = EventLoopTaskExecutor(loop)
            let buffer = InboundBuffer(bufferedMessages: 64)
            let seen = Locked(0)
            let reader = Task(executorPreference: executor) {
                for try await _ in buffer { seen.withLock { $0 += 1 } }
            }
            while !buffer.readerWaits { await Task.yield() }
            buffer.yield(Self.message(1))  // from this test's thread: queued, runs without runHeldJobs
            while seen.value == 0 { await Task.yield() }
            buffer.finish()
            try await reader.value
            #expect(seen.value == 1)
        }
    }
}
