import NIOCore
import SwitchboardCore
import Testing

@testable import Multiplex

/// What a hostile client can make a server's mux session do (issue 17, defects 2-4):
/// answer without bound, accept unbounded bytes as one control frame, or decode far
/// past a channel's window for an application that does not read.
@Suite("Mux session against a hostile client: refusal floods, split control frames, stalled channels")
struct HostilePeerSessionTests {
    /// One physical message holding `count` AddChannelRequests to an unrouted path.
    static func refusedRequests(_ count: Int) -> WebSocketMessage {
        let handshake = ByteBuffer(string: "GET /nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n")
        return controlMessage(
            (0..<count).map { n in
                .addChannelRequest(MuxAddChannelRequest(channel: MuxChannelID(UInt32(2 + n))!, handshake: handshake))
            })
    }

    static func controlMessage(_ blocks: [MuxControlBlock]) -> WebSocketMessage {
        .binary(MuxMessage.control(blocks).payload())
    }

    @Test("One message of 100,000 refused opens: answers stop at maxRefusedChannels and the connection fails with 2000 and 1008")
    func refusalFlood() throws {
        let (session, host) = try serverSession(configuration: .init(maxRefusedChannels: 16))
        _ = host.takeControl()
        let flood = Self.refusedRequests(100_000)
        session.receive(flood)
        let blocks = host.takeControl()
        let refusals = blocks.filter { if case .addChannelResponse = $0 { return true } else { return false } }
        #expect(refusals.count <= 16, "answers past the bound: \(refusals.count)")
        #expect(host.physicalFailure == .policyViolation)
        guard case .dropChannel(let drop)? = blocks.last else {
            Issue.record("no DropChannel: \(blocks.suffix(2))")
            return
        }
        #expect(drop.channel == .control && drop.reason?.code == .physicalConnectionFailed)
        // Nothing more is read or answered once the connection failed.
        session.receive(Self.refusedRequests(10))
        #expect(host.sent.isEmpty)
    }

    @Test("Refusals below the bound are each answered, across messages, and the connection lives")
    func refusalsBelowBound() throws {
        let (session, host) = try serverSession(configuration: .init(maxRefusedChannels: 16))
        _ = host.takeControl()
        for _ in 0..<4 { session.receive(Self.refusedRequests(4)) }
        #expect(host.takeControl().count == 16)
        #expect(host.physicalFailure == nil)
        session.receive(addChannel(100))
        #expect(host.opened.map(\.channel.id) == [100], "a good request after 16 refusals is still served")
    }

    @Test("A control frame split in pieces is dropped once its pieces pass 125 bytes, not taken whole at its end")
    func splitControlFrame() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 1000))))
        _ = host.takeControl()
        let piece = ByteBuffer(repeating: 7, count: 50)
        session.receive(logical(2, WireFrame(fin: false, opcode: .ping, payload: piece)))
        session.receive(logical(2, WireFrame(fin: false, opcode: .continuation, payload: piece)))
        #expect(host.drops().isEmpty, "100 bytes so far is a valid control frame in the making")
        session.receive(logical(2, WireFrame(fin: false, opcode: .continuation, payload: piece)))
        #expect(host.drops().map(\.0) == [2] && host.drops().first?.1 == .logicalChannelFailed)
        #expect(host.physicalFailure == nil, "only the channel goes")
    }

    @Test("A ping split in pieces within 125 bytes is answered with one pong")
    func splitPingAnswered() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 1000))))
        _ = host.takeControl()
        session.receive(logical(2, WireFrame(fin: false, opcode: .ping, payload: ByteBuffer(repeating: 1, count: 60))))
        session.receive(logical(2, WireFrame(fin: true, opcode: .continuation, payload: ByteBuffer(repeating: 1, count: 60))))
        let frames = host.takeFrames()
        #expect(frames.map(\.1.opcode) == [.pong] && frames.first?.1.payload.readableBytes == 120)
    }

    @Test("A channel whose application is behind decodes nothing more and grants no quota until it reads on")
    func stalledChannelHoldsItsWindow() throws {
        let window = 4096
        let (session, host) = try serverSession(configuration: .init(receiveWindow: window))
        session.receive(addChannel(2))
        _ = host.takeControl()
        host.acceptsMore = false
        // Ten 400-byte messages: 4010 bytes of quota, within the window.
        for _ in 0..<10 { session.receive(logical(2, WireFrame(fin: true, opcode: .binary, payload: ByteBuffer(repeating: 3, count: 400)))) }
        #expect(host.delivered.count == 1, "only the message that found the application behind was decoded")
        let granted = { (blocks: [MuxControlBlock]) in
            blocks.reduce(0) { total, block in if case .flowControl(let f) = block, f.channel == 2 { total + f.quota } else { total } }
        }
        #expect(granted(host.takeControl()) == 0, "no quota back while the application is behind")
        // A sender that overruns the quota it has left is dropped, so the held bytes stay within the window.
        host.acceptsMore = true
        session.readMore(2)
        #expect(host.delivered.count == 10)
        #expect(granted(host.takeControl()) == 4010, "the whole window back once every message is taken")
    }

    @Test("A stalled channel's peer that sends past the window is dropped (3005), with the window's bytes held at most")
    func stalledChannelOverrun() throws {
        let (session, host) = try serverSession(configuration: .init(receiveWindow: 4096))
        session.receive(addChannel(2))
        _ = host.takeControl()
        host.acceptsMore = false
        for _ in 0..<11 { session.receive(logical(2, WireFrame(fin: true, opcode: .binary, payload: ByteBuffer(repeating: 3, count: 400)))) }
        #expect(host.drops().map(\.1) == [.sendQuotaViolation])
        #expect(host.delivered.count == 1)
    }
}
