import NIOCore
import Testing

@testable import Switchboard

/// The rules of ``ReadGate``, one condition at a time and together, without a channel.
@Suite("ReadGate: when a connection reads and decodes")
struct ReadGateTests {
    @Test("Open: reads go out at once and nothing is kept")
    func open() {
        var gate = ReadGate()
        #expect(gate.mayDecode && gate.mayRead)
        let read = gate.requestRead()
        let kept = gate.takePendingRead()
        #expect(read && !gate.readPending && !kept)
    }

    @Test("A reader that is behind holds decoding and reading; the read asked for meanwhile goes out when it catches up")
    func readerBehind() {
        var gate = ReadGate()
        gate.readerFellBehind()
        #expect(!gate.mayDecode && !gate.mayRead)
        let read = gate.requestRead()
        let early = gate.takePendingRead()
        #expect(!read && gate.readPending && !early)
        gate.readerCaughtUp()
        let released = gate.takePendingRead()
        let again = gate.takePendingRead()
        #expect(released)
        #expect(!again, "once only")
    }

    @Test("A close under way reads and decodes past a reader that is behind")
    func closing() {
        var gate = ReadGate()
        gate.readerFellBehind()
        gate.closeStarted()
        #expect(gate.mayDecode && gate.mayRead)
    }

    @Test("Answers waiting for the socket hold reads (not decoding), even while closing, until it takes writes")
    func answersWaitForRoom() {
        var gate = ReadGate()
        gate.answersWritten(socketWritable: true)
        #expect(gate.mayRead, "answers the socket took hold nothing")
        gate.answersWritten(socketWritable: false)
        gate.closeStarted()
        #expect(gate.mayDecode && !gate.mayRead)
        let read = gate.requestRead()
        gate.socketWritabilityChanged(false)
        let stillHeld = gate.takePendingRead()
        gate.socketWritabilityChanged(true)
        let released = gate.takePendingRead()
        #expect(!read && !stillHeld && released)
    }

    @Test("Bytes waiting to be decoded hold reads, not decoding; once taken, the kept read goes out")
    func undecodedBytes() {
        var gate = ReadGate()
        gate.unparsed = ByteBuffer(bytes: [1, 2, 3])
        #expect(gate.mayDecode && !gate.mayRead)
        let read = gate.requestRead()
        gate.unparsed = nil
        let released = gate.takePendingRead()
        #expect(!read && released)
    }

    @Test("A pong may wait unread only while reads are held for a reader that is behind, not for a peer that does not read")
    func pongMayWaitUnread() {
        var gate = ReadGate()
        #expect(!gate.pongMayWaitUnread)
        gate.readerFellBehind()
        #expect(!gate.pongMayWaitUnread, "nothing is held back yet")
        _ = gate.requestRead()
        #expect(gate.pongMayWaitUnread)
        gate.answersWritten(socketWritable: false)
        #expect(!gate.pongMayWaitUnread, "the peer does not read: it may be gone")
        var undecoded = ReadGate()
        undecoded.readerFellBehind()
        undecoded.unparsed = ByteBuffer(bytes: [0])
        #expect(undecoded.pongMayWaitUnread)
    }
}
