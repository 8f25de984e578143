import Logging
import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Multiplex

@Suite("Mux session, server side: slots, channels, quota, drop codes")
struct ServerSessionTests {
    @Test("On start the server grants quota on channel 1 and slots, in one message (mod_pywebsocket's client needs both)")
    func startGrants() throws {
        let (_, host) = try serverSession(configuration: .init(maxChannels: 8, receiveWindow: 4096))
        #expect(host.sent.count == 1)
        #expect(
            host.takeControl() == [
                .flowControl(MuxFlowControl(channel: 1, quota: 4096)),
                .newChannelSlot(MuxNewChannelSlot(slots: 7, initialQuota: 4096)),
            ])
    }

    @Test("An identity AddChannelRequest is routed like a socket's handshake and answered 101 without Upgrade or Accept")
    func acceptsChannel() throws {
        let (session, host) = try serverSession()
        _ = host.takeControl()
        session.receive(addChannel(2, path: "/chat", extra: "Sec-WebSocket-Protocol: chat.v1\r\n"))
        let blocks = host.takeControl()
        guard case .addChannelResponse(let response) = blocks.first else {
            Issue.record("no response: \(blocks)")
            return
        }
        #expect(response.channel == 2 && !response.rejected)
        let text = String(buffer: response.handshake)
        #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(text.contains("Sec-WebSocket-Protocol: chat.v1\r\n"))
        #expect(!text.contains("Upgrade: ") && !text.contains("Sec-WebSocket-Accept"))
        #expect(host.opened.map(\.channel.id) == [2])
        #expect(host.opened.first?.channel.request.path == "/chat")
        #expect(host.opened.first?.channel.subprotocol == "chat.v1")
    }

    @Test("A channel handshake the route refuses gets a rejected AddChannelResponse with the HTTP status; no channel opens")
    func refusesChannel() throws {
        let (session, host) = try serverSession()
        _ = host.takeControl()
        session.receive(addChannel(2, path: "/chat"))  // no subprotocol: the registry requires one
        session.receive(addChannel(3, path: "/nowhere"))
        let responses = host.takeControl().compactMap { if case .addChannelResponse(let r) = $0 { return r } else { return nil } }
        #expect(responses.map(\.rejected) == [true, true])
        #expect(responses.map { String(buffer: $0.handshake).prefix(12) } == ["HTTP/1.1 400", "HTTP/1.1 404"])
        #expect(host.opened.isEmpty)
    }

    @Test("A flood of refused channel handshakes: every one is answered, the first 32 logged at info, the rest at debug")
    func refusalFloodLogging() throws {
        let lines = Locked<[(level: Logger.Level, message: String)]>([])
        let logger = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        let (session, host) = try serverSession(logger: logger)
        _ = host.takeControl()
        for id in UInt32(2)..<202 { session.receive(addChannel(MuxChannelID(id)!, path: "/nowhere")) }
        let responses = host.takeControl().compactMap { if case .addChannelResponse(let r) = $0 { return r } else { return nil } }
        #expect(responses.count == 200 && responses.allSatisfy(\.rejected))
        let info = lines.value.filter { $0.level == .info }
        #expect(info.count == 33, "\(info.count) lines at info")
        #expect(info.prefix(32).allSatisfy { $0.message == "channel handshake refused" })
        #expect(info.last?.message.contains("logged at debug") == true)
    }

    @Test("A delta-encoded request applies over the last identity request")
    func deltaRequest() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2, path: "/echo"))
        _ = host.takeControl()
        let delta = MuxAddChannelRequest(
            channel: 3, encoding: .delta,
            handshake: "GET /chat HTTP/1.1\r\nSec-WebSocket-Protocol: chat.v1\r\n\r\n")
        session.receive(control(.addChannelRequest(delta)))
        #expect(host.opened.map(\.channel.subprotocol) == [nil, "chat.v1"])
        #expect(host.opened.last?.channel.request.headers.single("Origin") == "http://localhost")  // from the base
    }

    @Test("Slot exhaustion: an AddChannelRequest with no slot left is dropped with 2007, and the other channels live on")
    func slotExhaustion() throws {
        let (session, host) = try serverSession(configuration: .init(maxChannels: 2))
        session.receive(addChannel(2))
        session.receive(addChannel(3))
        #expect(host.drops().map(\.1) == [.newChannelSlotViolation])
        #expect(host.drops().map(\.0) == [3])
        #expect(host.physicalFailure == nil)
        #expect(host.opened.map(\.channel.id) == [2])
        session.receive(logical(2, text("still here")))
        #expect(host.delivered.map(\.0) == [2])
    }

    @Test("A closed channel gives its slot back: the server sends NewChannelSlot(1)")
    func slotReplenished() throws {
        let (session, host) = try serverSession(configuration: .init(maxChannels: 2, receiveWindow: 100))
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 100))))
        _ = host.takeControl()
        var payload = ByteBuffer()
        payload.writeInteger(UInt16(1000))
        session.receive(logical(2, WireFrame(opcode: .close, payload: payload)))
        session.finish(2, code: .normalClosure, reason: "")
        let frames = host.sent.compactMap { if case .frame(let id, let f) = $0 { return (id, f.opcode) } else { return nil } }
        #expect(frames.map(\.0) == [2] && frames.map(\.1) == [.close])
        #expect(host.takeControl().contains(.newChannelSlot(MuxNewChannelSlot(slots: 1, initialQuota: 100))))
        #expect(host.closed == [2])
        session.receive(addChannel(4))
        #expect(host.opened.map(\.channel.id) == [2, 4])
    }

    @Test("Reopening an open channel fails the physical connection: DropChannel(0, 2006), close 1011")
    func duplicateChannel() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2))
        session.receive(addChannel(2))
        #expect(host.drops().last.map { $0.0 == .control && $0.1 == .channelAlreadyExists } == true)
        #expect(host.physicalFailure == .internalServerError)
        #expect(Set(host.closed) == [1, 2])
    }

    @Test("A physical text message fails the physical connection with 2001")
    func textMessage() throws {
        let (session, host) = try serverSession()
        session.receive(.text("hello"))
        #expect(host.drops().map(\.1) == [.invalidEncapsulatingMessage])
        #expect(host.physicalFailure == .internalServerError)
    }

    @Test("Control blocks only a server sends fail a server's session with 2005")
    func wrongDirection() throws {
        let (session, host) = try serverSession()
        session.receive(control(.newChannelSlot(MuxNewChannelSlot(slots: 1, initialQuota: 1))))
        #expect(host.drops().map(\.1) == [.invalidMuxControlBlock])
    }

    @Test("Quota violation: a frame costing more than the quota left drops its channel with 3005; channel 1 lives on")
    func quotaViolation() throws {
        let (session, host) = try serverSession(configuration: .init(receiveWindow: 10))
        session.receive(addChannel(2))
        _ = host.takeControl()
        session.receive(logical(2, text("123456789")))  // 9 + 1 = 10: exactly the quota
        #expect(host.drops().isEmpty)
        host.acceptsMore = false  // the application stops reading: channel 1's credit is held
        session.receive(logical(1, text("ok")))  // 3 of 10
        session.receive(logical(1, text("12345678")))  // 9 more: over the 7 left
        #expect(host.drops().map(\.0) == [1] && host.drops().map(\.1) == [.sendQuotaViolation])
        #expect(host.physicalFailure == nil)
        session.receive(logical(2, text("a")))  // channel 2 got its credit back and lives on
        #expect(host.delivered.last.map { $0.0 } == 2)
    }

    @Test("A FlowControl that takes the send quota past 2^63 - 1 drops the channel with 3006")
    func quotaOverflow() throws {
        let (session, host) = try serverSession(offer: "mux; quota=10")
        session.receive(control(.flowControl(MuxFlowControl(channel: 1, quota: Int.max - 5))))
        #expect(host.drops().map(\.1) == [.sendQuotaOverflow])
        #expect(host.physicalFailure == nil)
    }

    @Test("The received quota is given back per read, and held while the application does not read")
    func creditHeldUntilRead() throws {
        let (session, host) = try serverSession(configuration: .init(receiveWindow: 100))
        _ = host.takeControl()
        session.receive(logical(1, text("hello")))
        #expect(host.takeControl() == [.flowControl(MuxFlowControl(channel: 1, quota: 6))])
        host.acceptsMore = false
        session.receive(logical(1, text("held")))
        #expect(host.takeControl().isEmpty)
        session.readMore(1)
        #expect(host.takeControl() == [.flowControl(MuxFlowControl(channel: 1, quota: 5))])
    }

    @Test("A ping split into pieces (draft 06 lets a sender split control frames) is reassembled and answered")
    func splitPing() throws {
        let (session, host) = try serverSession()
        session.receive(logical(1, text("abc", fin: false)))
        session.receive(logical(1, WireFrame(fin: false, opcode: .ping, payload: ByteBuffer(string: "P"))))
        session.receive(logical(1, WireFrame(fin: true, opcode: .continuation, payload: ByteBuffer(string: "Q"))))
        session.receive(logical(1, WireFrame(fin: true, opcode: .continuation, payload: ByteBuffer(string: "def"))))
        let frames = host.takeFrames()
        #expect(frames.map(\.1.opcode) == [.pong])
        #expect(frames.first.map { String(buffer: $0.1.payload) } == "PQ")
        #expect(host.delivered.map { $0.1.text } == ["abcdef"])
    }

    @Test("A data frame inside a split control frame drops the channel with 3009")
    func badFragmentation() throws {
        let (session, host) = try serverSession()
        session.receive(logical(1, WireFrame(fin: false, opcode: .ping, payload: ByteBuffer(string: "P"))))
        session.receive(logical(1, text("x")))
        #expect(host.drops().map(\.1) == [.badFragmentation])
    }

    @Test("A DropChannel from the peer ends the channel at once and is acknowledged with 3008, once")
    func dropAcknowledged() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2))
        host.sent.removeAll()
        let drop = control(.dropChannel(MuxDropChannel(channel: 2, reason: .init(.logicalChannelFailed, message: "bye"))))
        session.receive(drop)
        session.receive(drop)  // the channel is gone: no second answer
        #expect(host.drops().map(\.0) == [2] && host.drops().map(\.1) == [.dropChannelAcknowledged])
        #expect(host.ended.last.map { $0.0 == 2 && $0.2 } == true)  // the handler's inbound ends as failed
        #expect(host.closed == [2])
    }

    @Test("§7.4.1 per channel: a message over the channel's limit closes that channel with 1009; the others go on")
    func messageTooBigOnOneChannel() throws {
        let (session, host) = try serverSession(offer: "mux; quota=10000", limits: .init(maxFrameSize: 100, maxMessageSize: 100))
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 1000))))
        host.sent.removeAll()
        session.receive(logical(2, WireFrame(opcode: .binary, payload: ByteBuffer(repeating: 1, count: 101))))
        let closes = host.takeFrames().filter { $0.1.opcode == .close }
        #expect(closes.map(\.0) == [2])
        #expect(closes.first.map { (try? WebSocketCloseFrame(parsing: $0.1.payload))?.code } == .messageTooBig)
        #expect(host.ended.last.map { $0.0 == 2 && $0.2 } == true)
        session.receive(logical(1, text("fine")))
        #expect(host.delivered.map(\.0) == [1] && host.physicalFailure == nil)
    }

    @Test("A finished channel whose peer never answers the close is dropped (3000) when the close timeout fires")
    func closeTimeout() throws {
        let (session, host) = try serverSession()
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 1000))))
        session.finish(2, code: .normalClosure, reason: "")
        #expect(host.takeFrames().map(\.1.opcode) == [.close])
        #expect(host.closed.isEmpty)  // waiting for the answer
        session.closeTimedOut(2)
        #expect(host.drops().map(\.0) == [2] && host.drops().map(\.1) == [.logicalChannelFailed])
        #expect(host.closed == [2])
        session.closeTimedOut(2)  // late: nothing more
        #expect(host.drops().count == 1)
    }

    @Test("A frame for a channel that is not open is ignored, as mod_pywebsocket does")
    func unknownChannel() throws {
        let (session, host) = try serverSession()
        _ = host.takeControl()
        session.receive(logical(9, text("nobody")))
        #expect(host.sent.isEmpty && host.physicalFailure == nil && host.delivered.isEmpty)
    }
}

@Suite("Mux session: sending within quota, fairly")
struct SendingTests {
    @Test("A message larger than the send quota goes out in pieces that fit, the rest when FlowControl comes")
    func splitsToQuota() throws {
        let (session, host) = try serverSession(offer: "mux; quota=10")
        _ = host.takeControl()
        var done = false
        session.send(.text("abcdefghijklmnopqrstuvwxy"), on: 1) { done = (try? $0.get()) != nil }
        var frames = host.takeFrames()
        #expect(frames.map { String(buffer: $0.1.payload) } == ["abcdefghi"])  // 9 + 1 for the message start
        #expect(frames.map(\.1.fin) == [false] && frames.map(\.1.opcode) == [.text])
        #expect(!done)
        session.receive(control(.flowControl(MuxFlowControl(channel: 1, quota: 10))))
        session.receive(control(.flowControl(MuxFlowControl(channel: 1, quota: 100))))
        frames = host.takeFrames()
        #expect(frames.map { String(buffer: $0.1.payload) } == ["jklmnopqrs", "tuvwxy"])
        #expect(frames.map(\.1.opcode) == [.continuation, .continuation] && frames.map(\.1.fin) == [false, true])
        #expect(done)
    }

    @Test("Channels take turns piece by piece: a small message waits behind one piece of a large one, not the whole")
    func fairShare() throws {
        let (session, host) = try serverSession(configuration: .init(maxFragmentSize: 1000), offer: "mux; quota=100000000")
        session.receive(addChannel(2))
        session.receive(control(.flowControl(MuxFlowControl(channel: 2, quota: 100_000_000))))
        host.isPhysicalWritable = false
        session.send(.binary(ByteBuffer(repeating: 7, count: 100_000)), on: 1) { _ in }
        session.send(.text("small"), on: 2) { _ in }
        host.sent.removeAll()
        host.isPhysicalWritable = true
        session.physicalWritabilityChanged()
        let order = host.takeFrames().map(\.0)
        #expect(order.count == 101)
        #expect(order.firstIndex(of: 2)! <= 1)
    }

    @Test("Nothing is sent while the physical connection is not writable")
    func waitsForWritability() throws {
        let (session, host) = try serverSession(offer: "mux; quota=1000")
        _ = host.takeControl()
        host.isPhysicalWritable = false
        var done = false
        session.send(.text("later"), on: 1) { done = (try? $0.get()) != nil }
        #expect(host.sent.isEmpty && !done)
        host.isPhysicalWritable = true
        session.physicalWritabilityChanged()
        #expect(host.takeFrames().map { String(buffer: $0.1.payload) } == ["later"] && done)
    }

    @Test("Pongs a peer's pings pile up without quota past the limit drop the channel (3000)")
    func controlFlood() throws {
        let (session, host) = try serverSession(configuration: .init(maxPendingControlBytes: 256), offer: "mux")
        for _ in 0..<40 { session.receive(logical(1, WireFrame(opcode: .ping, payload: ByteBuffer(string: "0123456789")))) }
        #expect(host.drops().map(\.1) == [.logicalChannelFailed])
    }
}

@Suite("Mux session, client side: opening channels")
struct ClientSessionTests {
    @Test("openChannel sends an identity AddChannelRequest without Upgrade, key or version, and grants quota once accepted")
    func opensChannel() throws {
        let (session, host) = try clientSession(quota: 500)
        var result: Result<OpenedLogicalChannel, any Error>?
        let request = HandshakeRequest(target: "/rpc", headers: ["Host": "localhost", "Connection": "Upgrade", "Sec-WebSocket-Protocol": "jsonrpc"])
        session.openChannel(request: request, subprotocols: ["jsonrpc"]) { result = $0 }
        guard case .addChannelRequest(let block) = host.takeControl().first else {
            Issue.record("no request")
            return
        }
        let text = String(buffer: block.handshake)
        #expect(text.hasPrefix("GET /rpc HTTP/1.1\r\n") && !text.contains("Sec-WebSocket-Key"))
        session.receive(
            control(
                .addChannelResponse(
                    MuxAddChannelResponse(
                        channel: block.channel,
                        handshake: "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: jsonrpc\r\n\r\n"))))
        #expect(try result?.get().subprotocol == "jsonrpc")
        #expect(host.takeControl().contains(.flowControl(MuxFlowControl(channel: block.channel, quota: MuxConfiguration().receiveWindow))))
        var sent = false
        session.send(.text(String(repeating: "x", count: 600)), on: block.channel.rawValue) { sent = (try? $0.get()) != nil }
        #expect(host.takeFrames().map { $0.1.payload.readableBytes } == [499])  // the slot's quota, less 1 for the start
        #expect(!sent)
    }

    @Test("A channel answered with a subprotocol it did not offer fails, and is dropped")
    func unofferedSubprotocol() throws {
        let (session, host) = try clientSession()
        var result: Result<OpenedLogicalChannel, any Error>?
        session.openChannel(request: HandshakeRequest(target: "/echo", headers: ["Host": "localhost"]), subprotocols: []) { result = $0 }
        guard case .addChannelRequest(let block) = host.takeControl().first else {
            Issue.record("no request")
            return
        }
        session.receive(
            control(
                .addChannelResponse(
                    MuxAddChannelResponse(
                        channel: block.channel,
                        handshake: "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: other\r\n\r\n"))))
        #expect(throws: WebSocketError.self) { try result?.get() }
        #expect(host.drops().map(\.0) == [block.channel])
    }

    @Test("A refused channel fails with channelRefused; a second refusal for it (mod_pywebsocket sends two) is ignored")
    func refused() throws {
        let (session, host) = try clientSession()
        var result: Result<OpenedLogicalChannel, any Error>?
        session.openChannel(request: HandshakeRequest(target: "/x", headers: ["Host": "localhost"]), subprotocols: []) { result = $0 }
        guard case .addChannelRequest(let block) = host.takeControl().first else {
            Issue.record("no request")
            return
        }
        let refusal = control(
            .addChannelResponse(MuxAddChannelResponse(channel: block.channel, rejected: true, handshake: "HTTP/1.1 400 Bad Request\r\n\r\n")))
        session.receive(refusal)
        session.receive(refusal)
        #expect(throws: MultiplexError.channelRefused("the server refused the channel (status 400)")) { try result?.get() }
        #expect(host.physicalFailure == nil)
    }

    @Test("With no slot granted yet, an open waits for NewChannelSlot; a fallback refuses it")
    func waitsForSlot() throws {
        let (session, host) = try clientSession(slots: 0)
        _ = host.takeControl()
        var results: [Result<OpenedLogicalChannel, any Error>] = []
        session.openChannel(request: HandshakeRequest(target: "/echo", headers: ["Host": "localhost"]), subprotocols: []) { results.append($0) }
        #expect(host.takeControl().isEmpty)
        session.receive(control(.newChannelSlot(MuxNewChannelSlot(slots: 1, initialQuota: 10))))
        #expect(host.takeControl().count == 1)
        session.openChannel(request: HandshakeRequest(target: "/echo", headers: ["Host": "localhost"]), subprotocols: []) { results.append($0) }
        session.receive(control(.newChannelSlot(.fallback)))
        #expect(results.count == 1)
        #expect(throws: MultiplexError.self) { try results.first?.get() }
    }

    @Test("An AddChannelRequest sent to a client fails the physical connection with 2005")
    func requestToClient() throws {
        let (session, host) = try clientSession()
        session.receive(addChannel(2))
        #expect(host.drops().map(\.1) == [.invalidMuxControlBlock])
        #expect(host.physicalFailure == .internalServerError)
    }
}
