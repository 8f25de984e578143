import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite("WebSocketEngine (RFC 6455 §5.4-§7)")
struct EngineTests {
    static func server(limits: WebSocketLimits = .default) -> WebSocketEngine {
        WebSocketEngine(role: .server, limits: limits)
    }

    // MARK: Messages and fragmentation (§5.4, §5.6)

    @Test("§5.6: unfragmented text and binary messages are delivered")
    func unfragmented() {
        var engine = Self.server()
        #expect(
            engine.feed(clientFrame(.text, "héllo") + clientFrame(.binary, [0, 1, 2]) + clientFrame(.text, ""))
                == [.text("héllo"), .binary([0, 1, 2]), .text("")])
        #expect(engine.takeOutbound() == nil)
    }

    @Test("§5.4: a fragmented message is reassembled in order")
    func fragmented() {
        var engine = Self.server()
        var buffer = ByteBuffer()
        #expect(engine.feed(clientFrame(fin: false, .text, "Hel"), into: &buffer) == [])
        #expect(engine.feed(clientFrame(fin: false, .continuation, "lo, "), into: &buffer) == [])
        #expect(engine.feed(clientFrame(fin: false, .continuation, ""), into: &buffer) == [])  // empty fragments are allowed
        #expect(engine.feed(clientFrame(.continuation, "world"), into: &buffer) == [.text("Hello, world")])
        #expect(engine.feed(clientFrame(fin: false, .binary, [1]) + clientFrame(.continuation, [2, 3])) == [.binary([1, 2, 3])])
    }

    @Test("§5.4: a multi-byte character split across fragments is valid")
    func characterSplitAcrossFragments() {
        var engine = Self.server()
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(
            engine.feed(
                clientFrame(fin: false, .text, [0x61, euro[0]]) + clientFrame(fin: false, .continuation, [euro[1]])
                    + clientFrame(.continuation, [euro[2], 0x62])) == [.text("a€b")])
    }

    @Test("§5.4: control frames may be injected between fragments")
    func controlBetweenFragments() {
        var engine = Self.server()
        let events = engine.feed(
            clientFrame(fin: false, .text, "frag") + clientFrame(.ping, "p1") + clientFrame(.pong, "q")
                + clientFrame(.continuation, "ment"))
        #expect(events == [.ping(Array("p1".utf8)), .pong(Array("q".utf8)), .text("fragment")])
        #expect(engine.sentFrames() == [frame(.pong, "p1")])
    }

    @Test("§5.4: a close frame between fragments ends the connection")
    func closeBetweenFragments() {
        var engine = Self.server()
        #expect(
            engine.feed(clientFrame(fin: false, .text, "frag") + clientFrame(.close, closePayload(1000)))
                == [.closed(1000, "")])
        #expect(engine.closeState == .closeReceived)
    }

    @Test("§5.4: a continuation frame with no message to continue closes with 1002")
    func continuationWithoutStart() {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.continuation, "x")) == [.failed(1002)])
        var engine2 = Self.server()
        #expect(engine2.feed(clientFrame(.text, "done") + clientFrame(fin: false, .continuation, "x")) == [.text("done"), .failed(1002)])
    }

    @Test("§5.4: a new data frame before the previous message ended closes with 1002", arguments: [WireOpcode.text, .binary])
    func newDataFrameMidMessage(opcode: WireOpcode) {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(fin: false, .text, "a") + clientFrame(opcode, "b")) == [.failed(1002)])
        #expect(engine.failure?.closeCode == .protocolError)
    }

    // MARK: Ping and pong (§5.5.2, §5.5.3)

    @Test("§5.5.2: a ping is answered with a pong carrying the same payload", arguments: [0, 1, 17, 125])
    func pingPong(length: Int) {
        var engine = Self.server()
        var rng = SeededRandom(seed: UInt64(length))
        let payload = randomBytes(length, using: &rng)
        #expect(engine.feed(clientFrame(.ping, payload)) == [.ping(payload)])
        #expect(engine.sentFrames() == [frame(.pong, payload)])
    }

    @Test("§5.5.2: each of several pings gets its pong, in order, written out together")
    func severalPings() {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.ping, "1") + clientFrame(.ping, "2")) == [.ping([0x31]), .ping([0x32])])
        #expect(engine.sentFrames() == [frame(.pong, "1"), frame(.pong, "2")])
    }

    @Test("§5.5.3: an unsolicited pong is reported and not answered")
    func unsolicitedPong() {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.pong, "hb")) == [.pong(Array("hb".utf8))])
        #expect(engine.takeOutbound() == nil)
    }

    @Test("§5.5.2: a ping received after we sent a close (none received yet) is still answered with a pong")
    func pingWhileClosing() {
        var engine = Self.server()
        engine.close(code: .normalClosure)
        _ = engine.takeOutbound()
        // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response,
        //  unless it already received a Close frame."
        #expect(engine.feed(clientFrame(.ping, "still there?")) == [.ping(Array("still there?".utf8))])
        #expect(engine.sentFrames() == [frame(.pong, "still there?")])
    }

    @Test("§5.5.2: ping() queues a ping, cutting the payload to 125 bytes")
    func sendPing() throws {
        var engine = Self.server()
        try engine.ping(ByteBuffer(bytes: [UInt8](repeating: 7, count: 200)))
        try engine.pong(ByteBuffer(bytes: [1]))
        #expect(engine.sentFrames() == [frame(.ping, [UInt8](repeating: 7, count: 125)), frame(.pong, [1])])
    }

    // MARK: Closing handshake (§5.5.1, §7)

    @Test("§5.5.1: after a peer-initiated close the application may still answer; close() then echoes the peer's code")
    func peerInitiatedClose() throws {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.close, closePayload(1001, "going")) + clientFrame(.text, "ignored")) == [.closed(1001, "going")])
        #expect(engine.closeState == .closeReceived)
        #expect(engine.sentFrames() == [])
        try engine.send(.text("reply"))  // a reply to what came before the close may still go out
        #expect(throws: WebSocketError.connectionClosed) { try engine.ping() }
        let answered = engine.close(code: .internalServerError, reason: "ignored")  // echoes 1001, not 1011
        #expect(answered)
        #expect(engine.closeState == .closed)
        #expect(engine.sentFrames() == [frame(.text, "reply"), frame(.close, closePayload(1001))])
        #expect(throws: WebSocketError.connectionClosed) { try engine.send(.text("late")) }
        #expect(engine.close() == false)
        #expect(engine.takeOutbound() == nil)
    }

    @Test("§5.5.1, §7.1.5: an empty close (code 1005 to us) is answered with 1000, not with nothing")
    func emptyClose() {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.close, [])) == [.closed(nil, "")])
        let answered = engine.close(code: .goingAway)  // the peer's close decides the answer, not ours
        #expect(answered)
        #expect(engine.sentFrames() == [frame(.close, closePayload(1000))])
    }

    @Test("§7.1.2, §5.5.1: our close, then the peer's: messages still arrive meanwhile, no second close is sent")
    func locallyInitiatedClose() {
        var engine = Self.server()
        let started = engine.close(code: .goingAway, reason: "restart")
        #expect(started)
        #expect(engine.closeState == .closeSent)
        #expect(engine.sentFrames() == [frame(.close, closePayload(1001, "restart"))])
        #expect(engine.close() == false, "a second close is not sent")
        #expect(throws: WebSocketError.connectionClosed) { try engine.send(.binary([1])) }

        #expect(engine.feed(clientFrame(.text, "in flight")) == [.text("in flight")])
        #expect(engine.feed(clientFrame(.close, closePayload(1001))) == [.closed(1001, "")])
        #expect(engine.closeState == .closed)
        #expect(engine.takeOutbound() == nil)
    }

    @Test("§5.5.1: nothing after the peer's close frame is processed")
    func afterPeerClose() {
        var engine = Self.server()
        #expect(
            engine.feed(clientFrame(.close, closePayload(1000)) + clientFrame(.text, "ignored") + clientFrame(.ping, []))
                == [.closed(1000, "")])
        _ = engine.takeOutbound()
        #expect(engine.feed(clientFrame(.text, "still ignored")) == [])
        #expect(engine.takeOutbound() == nil)
    }

    static let invalidCloses: [([UInt8], UInt16)] = [
        ([0x03], 1002),  // one byte
        (closePayload(1005), 1002),  // may not be sent
        (closePayload(999), 1002),
        (closePayload(1000) + [0xC0, 0xAF], 1007),  // reason not UTF-8
    ]

    @Test("§5.5.1, §7.4: an invalid close frame from the peer fails the connection", arguments: invalidCloses)
    func invalidPeerClose(payload: [UInt8], code: UInt16) {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.close, payload)) == [.failed(code)])
    }

    // MARK: Failing the connection (§7.1.7)

    @Test("§7.1.7: after a failure, receive returns nil and close sends the failure's code without awaiting an answer")
    func afterFailure() throws {
        var engine = Self.server()
        var buffer = ByteBuffer()
        #expect(
            engine.feed(
                clientFrame(.text, "ok") + rawFrame(opcode: 3, payload: [], mask: testKey) + clientFrame(.text, "after"),
                into: &buffer) == [.text("ok"), .failed(1002)])
        let failure = try #require(engine.failure)
        #expect(failure.closeCode == .protocolError)
        #expect(engine.feed(clientFrame(.text, "more"), into: &buffer) == [])
        #expect(engine.receive(from: &buffer) == nil)

        let sentClose = engine.close(code: failure.closeCode, reason: failure.reason)
        #expect(sentClose)
        let sent = engine.sentFrames()
        #expect(sent.count == 1)
        #expect(sent.first?.opcode == .close)
        #expect(try sent.first.map { try WebSocketCloseFrame(parsing: $0.payload).code } == .protocolError)
        #expect(engine.closeState == .closed, "no answer is awaited after failing")
    }

    // MARK: Limits (§7.4.1, 1009)

    @Test("§7.4.1: a message over maxMessageSize closes with 1009, whether in one frame or in fragments")
    func messageTooBig() {
        let limits = WebSocketLimits(maxFrameSize: 100, maxMessageSize: 10)
        var engine = Self.server(limits: limits)
        #expect(engine.feed(clientFrame(.binary, [UInt8](repeating: 0, count: 11))) == [.failed(1009)])
        var engine2 = Self.server(limits: limits)
        #expect(
            engine2.feed(
                clientFrame(fin: false, .binary, [UInt8](repeating: 0, count: 6))
                    + clientFrame(.continuation, [UInt8](repeating: 0, count: 5))) == [.failed(1009)])
        var engine3 = Self.server(limits: limits)
        #expect(engine3.feed(clientFrame(fin: false, .text, "12345") + clientFrame(.continuation, "67890")) == [.text("1234567890")])
    }

    @Test("§7.4.1: a frame over maxFrameSize closes with 1009")
    func frameTooBig() {
        var engine = Self.server(limits: WebSocketLimits(maxFrameSize: 16, maxMessageSize: 1000))
        #expect(engine.feed(clientFrame(.binary, [UInt8](repeating: 0, count: 17))) == [.failed(1009)])
    }

    // MARK: UTF-8 of text messages (§8.1)

    @Test("§8.1: a text message that is not UTF-8 closes with 1007")
    func invalidText() {
        var engine = Self.server()
        #expect(engine.feed(clientFrame(.text, [0x61, 0xFF])) == [.failed(1007)])
        var engine2 = Self.server()
        #expect(engine2.feed(clientFrame(.text, [0x61, 0xE2, 0x82])) == [.failed(1007)], "ends inside a sequence")
        var engine3 = Self.server()
        #expect(engine3.feed(clientFrame(.binary, [0xFF])) == [.binary([0xFF])], "binary is not checked")
    }

    @Test("§8.1: invalid UTF-8 in a fragment fails as soon as that fragment arrives, before the message ends")
    func invalidFragmentFailsEarly() {
        var engine = Self.server()
        var buffer = ByteBuffer()
        #expect(engine.feed(clientFrame(fin: false, .text, "valid start "), into: &buffer) == [])
        #expect(engine.feed(clientFrame(fin: false, .continuation, [0x61, 0xED, 0xA0, 0x80]), into: &buffer) == [.failed(1007)])
    }

    @Test("§8.1: invalid UTF-8 is found in half a frame, before the rest of the frame arrives")
    func invalidPartialFrameFailsEarly() {
        // A text frame announcing 1000 bytes whose first bytes are already impossible.
        let payload = Array("abc".utf8) + [0xF4, 0x90] + [UInt8](repeating: 0x61, count: 995)
        let bytes = clientFrame(.text, payload)
        var engine = Self.server()
        var buffer = ByteBuffer()
        #expect(engine.feed(Array(bytes[..<(8 + 10)]), into: &buffer) == [.failed(1007)])
    }

    @Test("§8.1: invalid UTF-8 in half of a continuation frame fails before the rest arrives")
    func invalidPartialContinuationFailsEarly() {
        var engine = Self.server()
        var buffer = ByteBuffer()
        #expect(engine.feed(clientFrame(fin: false, .text, [0x61, 0xE2]), into: &buffer) == [])  // ends inside "€": fine so far
        let next = clientFrame(.continuation, [0x82, 0x41] + [UInt8](repeating: 0x61, count: 500))  // 0x41 is not a continuation byte
        #expect(engine.feed(Array(next[..<(8 + 4)]), into: &buffer) == [.failed(1007)])
    }

    @Test("§8.1: text arriving in pieces of a frame is validated once and delivered whole")
    func partialValidText() {
        let text = String(repeating: "žluťoučký kůň ", count: 50)
        let bytes = clientFrame(.text, text)
        var engine = Self.server()
        var buffer = ByteBuffer()
        var events: [Event] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            events += engine.feed(Array(bytes[chunk..<min(chunk + 7, bytes.count)]), into: &buffer)
        }
        #expect(events == [.text(text)])
    }

    // MARK: Sending (§5.1, §5.3)

    @Test("§5.1, §5.3: a client masks every frame it sends, with a fresh key per frame")
    func clientMasks() throws {
        let keys = [WireMaskingKey(1, 2, 3, 4), WireMaskingKey(9, 8, 7, 6), WireMaskingKey(0xAA, 0xBB, 0xCC, 0xDD)]
        final class Counter: @unchecked Sendable { var n = 0 }  // touched from this test only, one call at a time
        let counter = Counter()
        var engine = WebSocketEngine(
            role: .client,
            maskingKey: {
                defer { counter.n += 1 }
                return keys[counter.n % keys.count]
            })
        try engine.send(.text("Hello"))
        try engine.ping(ByteBuffer(bytes: [1]))
        engine.close(code: .normalClosure)
        let outbound = engine.takeOutbound()
        let out = try #require(outbound).bytes
        #expect(
            out == rawFrame(opcode: 1, payload: Array("Hello".utf8), mask: keys[0])
                + rawFrame(opcode: 9, payload: [1], mask: keys[1])
                + rawFrame(opcode: 8, payload: closePayload(1000), mask: keys[2]))
        #expect(parseFrames(out, role: .server).frames == [frame(.text, "Hello"), frame(.ping, [1]), frame(.close, closePayload(1000))])
    }

    @Test("§5.1: a server sends unmasked frames; a client engine refuses masked ones")
    func serverDoesNotMask() throws {
        var server = Self.server()
        try server.send(.binary([1, 2]))
        #expect(server.takeOutbound()?.bytes == [0x82, 0x02, 1, 2])
        var client = WebSocketEngine(role: .client)
        #expect(client.feed(serverFrame(.text, Array("hi".utf8))) == [.text("hi")])
        #expect(client.feed(clientFrame(.text, "masked")) == [.failed(1002)])
    }

    @Test("§5.4: with maxOutgoingFrameSize, a message is sent as fragments")
    func outgoingFragmentation() throws {
        var engine = Self.server()
        engine.maxOutgoingFrameSize = 4
        try engine.send(.text("0123456789"))
        try engine.send(.binary([]))
        try engine.send(.binary([1, 2, 3, 4]))
        #expect(
            engine.sentFrames() == [
                frame(.text, "0123", fin: false), frame(.continuation, "4567", fin: false), frame(.continuation, "89"),
                frame(.binary, []), frame(.binary, [1, 2, 3, 4]),
            ])
    }

    @Test("§5.5.1: the close sent by close(code:reason:) has the code and reason")
    func closePayloadSent() {
        var engine = Self.server()
        engine.close(code: WebSocketCloseCode(4000), reason: "custom")
        #expect(engine.sentFrames() == [frame(.close, closePayload(4000, "custom"))])
    }

    @Test("§5.2: a client engine and a server engine talk to each other")
    func clientServerLoop() throws {
        var client = WebSocketEngine(role: .client)
        var server = Self.server()
        try client.send(.text("ping me"))
        try client.ping(ByteBuffer(string: "x"))
        var toServer = client.takeOutbound()!
        var serverEvents: [Event] = []
        while let e = server.receive(from: &toServer) { serverEvents.append(Event(e)) }
        #expect(serverEvents == [.text("ping me"), .ping([0x78])])
        try server.send(.binary([9]))
        server.close(code: .normalClosure)
        var toClient = server.takeOutbound()!
        var clientEvents: [Event] = []
        while let e = client.receive(from: &toClient) { clientEvents.append(Event(e)) }
        #expect(clientEvents == [.pong([0x78]), .binary([9]), .closed(1000, "")])
        #expect(client.closeState == .closeReceived)
        client.close()  // the transport answers once the application is done
        var reply = client.takeOutbound()!
        #expect(Event(server.receive(from: &reply)!) == .closed(1000, ""))
        #expect(client.closeState == .closed && server.closeState == .closed)
    }
}

extension Optional where Wrapped == WebSocketEvent {
    static func == (l: Self, r: Self) -> Bool { l.map(Event.init) == r.map(Event.init) }
}
