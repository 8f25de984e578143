import NIOCore
import SwitchboardCore
import Testing

// MARK: Test-only extensions

/// An extension that does nothing but claim reserved bits.
struct PlainExtension: WebSocketExtension {
    var name: String
    var reservedBits: WireFrame.ReservedBits
    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
}

/// Negotiates a `PlainExtension`. It accepts the first offer without a `reject` parameter,
/// and as a client refuses a response with an `unknown` parameter.
struct TestExtensionFactory: WebSocketExtensionFactory {
    var token: String
    var reservedBits: WireFrame.ReservedBits

    func clientOffers() -> [ExtensionOffer] { [ExtensionOffer(token)] }

    func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        if response.parameters.contains(where: { $0.name == "unknown" }) { throw ExtensionNegotiationError("unknown parameter") }
        return PlainExtension(name: token, reservedBits: reservedBits)
    }

    func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        guard let offer = offers.first(where: { !$0.parameters.contains { $0.name == "reject" } }) else { return nil }
        return (offer, PlainExtension(name: token, reservedBits: reservedBits))
    }
}

/// A factory whose extension adopts the extensions accepted before it, as an extension that
/// carries sessions does; its extension keeps the names of what it adopted.
struct AdoptingExtensionFactory: WebSocketExtensionFactory {
    var token = "x-sessions"

    func clientOffers() -> [ExtensionOffer] { [ExtensionOffer(token)] }
    func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        AdoptingExtension(name: token, adopted: [])
    }
    func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        (offers[0], AdoptingExtension(name: token, adopted: []))
    }
    func serverAccept(_ offers: [ExtensionOffer], negotiation: ExtensionNegotiationState) -> ExtensionAgreement? {
        ExtensionAgreement(
            response: offers[0], extension: AdoptingExtension(name: token, adopted: negotiation.accepted.map(\.name)),
            adoptsPreceding: true)
    }
    func clientAccept(_ response: ExtensionOffer, negotiation: ExtensionNegotiationState) throws(ExtensionNegotiationError) -> ExtensionAgreement {
        ExtensionAgreement(
            response: response, extension: AdoptingExtension(name: token, adopted: negotiation.accepted.map(\.name)),
            adoptsPreceding: true)
    }
}

struct AdoptingExtension: WebSocketExtension {
    var name: String
    var adopted: [String]
    func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
    func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
}

/// A record of the calls extensions receive, shared by the extensions of one test.
final class CallLog {
    var entries: [String] = []
}

/// Appends its tag byte to every outgoing data frame and strips it from every
/// incoming one (failing with 1002 if it is not there), so that the order of the
/// pipeline shows in the bytes on the wire.
struct TagExtension: WebSocketExtension {
    let tag: UInt8
    let log: CallLog
    var name: String { "tag-\(Character(Unicode.Scalar(tag)))" }

    private var label: String { String(Character(Unicode.Scalar(tag))) }

    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        log.entries.append("\(label).encode(\(frame.opcode))")
        var frame = frame
        if !frame.opcode.isControl {
            var payload = ByteBuffer(buffer: frame.payload)
            payload.writeInteger(tag)
            frame.payload = payload
        }
        output.forward(frame)
    }

    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        log.entries.append("\(label).decode(\(frame.opcode))")
        var frame = frame
        if !frame.opcode.isControl {
            guard frame.payload.readableBytesView.last == tag else {
                throw WebSocketProtocolError(.protocolError, "\(label) expected its tag last")
            }
            frame.payload = frame.payload.getSlice(at: frame.payload.readerIndex, length: frame.payload.readableBytes - 1)!
        }
        output.forward(frame)
    }
}

/// An extension in the manner of a multiplexer: it consumes frames addressed to
/// itself, answers the peer on its own, splits a frame into two messages, adds
/// frames of its own to what the application sends, and talks to the application.
struct ChattyExtension: WebSocketExtension {
    let log: CallLog
    var name: String { "chatty" }

    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        let text = String(buffer: frame.payload)
        log.entries.append("chatty.decode(\(frame.opcode) \(text))")
        switch (frame.opcode, text) {
        case (.binary, "swallow"):
            break  // addressed to the extension: consumed
        case (.binary, "knock"):
            output.reply(WireFrame(opcode: .binary, payload: ByteBuffer(string: "who's there")))
        case (.binary, "split"):
            output.forward(WireFrame(opcode: .binary, payload: ByteBuffer(string: "sp")))
            output.forward(WireFrame(opcode: .binary, payload: ByteBuffer(string: "lit")))
        case (.binary, "ping me"):
            output.reply(WireFrame(opcode: .ping, payload: ByteBuffer(string: "from chatty")))
        default:
            output.forward(frame)
        }
    }

    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        let text = String(buffer: frame.payload)
        log.entries.append("chatty.encode(\(frame.opcode) \(text))")
        switch (frame.opcode, text) {
        case (.binary, "loopback"):
            output.reply(WireFrame(opcode: .binary, payload: ByteBuffer(string: "echo:loopback")))
        case (.binary, _):
            output.forward(frame)
            output.forward(WireFrame(opcode: .binary, payload: ByteBuffer(string: "extra")))
        default:
            output.forward(frame)
        }
    }
}

/// Claims RSV1: sets it on what it sends, requires and clears it on what it receives.
struct RSV1Extension: WebSocketExtension {
    var name: String { "rsv1-user" }
    var reservedBits: WireFrame.ReservedBits { .rsv1 }

    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        var frame = frame
        if !frame.opcode.isControl { frame.reservedBits.insert(.rsv1) }
        output.forward(frame)
    }

    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        var frame = frame
        frame.reservedBits.remove(.rsv1)
        output.forward(frame)
    }
}

// MARK: Header grammar

@Suite("Sec-WebSocket-Extensions grammar (RFC 6455 §9.1)")
struct ExtensionHeaderTests {
    static func parse(_ lines: String...) throws -> [ExtensionOffer] { try ExtensionHeader.parse(lines) }
    typealias P = ExtensionOffer.Parameter

    @Test("§9.1: a bare token and a token with parameters")
    func tokens() throws {
        #expect(try Self.parse("permessage-deflate") == [ExtensionOffer("permessage-deflate")])
        #expect(
            try Self.parse("permessage-deflate; client_max_window_bits; server_max_window_bits=10") == [
                ExtensionOffer("permessage-deflate", [P("client_max_window_bits"), P("server_max_window_bits", "10")])
            ])
        #expect(try Self.parse("  x-foo ;a=1 ;  b  ") == [ExtensionOffer("x-foo", [P("a", "1"), P("b")])])
    }

    @Test("§9.1: quoted-string values, with escapes, unquoted to their token")
    func quotedValues() throws {
        #expect(try Self.parse(#"foo; bar="baz""#) == [ExtensionOffer("foo", [P("bar", "baz")])])
        #expect(try Self.parse(#"foo; bar="b\az"; n="10""#) == [ExtensionOffer("foo", [P("bar", "baz"), P("n", "10")])])
    }

    @Test("§9.1: several offers in one header and over several header lines form one list, in order")
    func severalOffers() throws {
        let expected = [ExtensionOffer("a", [P("x", "1")]), ExtensionOffer("b"), ExtensionOffer("a", [P("y")]), ExtensionOffer("c")]
        #expect(try Self.parse("a; x=1, b, a; y, c") == expected)
        #expect(try Self.parse("a; x=1, b", "a; y", "c") == expected)
        #expect(try Self.parse("a;x=1,b,a;y,c") == expected)
    }

    @Test("RFC 9110 §5.6.1: empty list elements are ignored")
    func emptyElements() throws {
        #expect(try Self.parse(", a, , b") == [ExtensionOffer("a"), ExtensionOffer("b")])
        #expect(try Self.parse("a, b,") == [ExtensionOffer("a"), ExtensionOffer("b")])
    }

    @Test(
        "§9.1: malformed headers throw",
        arguments: [
            "",  // no extension at all
            "   ",
            ";",  // ";" without a token
            "foo;",
            "foo; ; bar",
            "foo; =1",
            "foo; bar=",  // "=" without a value
            #"foo; bar="baz"#,  // unterminated quote
            #"foo; bar="a b""#,  // quoted value that is not a token
            #"foo; bar="""#,  // empty quoted value
            #"foo; bar="a,b""#,
            "foo bar",  // two tokens
            "foo; bar=1 2",
            "fo@o",  // not a token character
            "foo; b(r=1",
            #""foo""#,  // a quoted extension token
        ])
    func malformed(header: String) {
        #expect(throws: ExtensionHeader.SyntaxError.self, "\(header.debugDescription)") { try ExtensionHeader.parse([header]) }
    }

    @Test("§9.1: one malformed line makes the whole header malformed")
    func oneBadLine() {
        #expect(throws: ExtensionHeader.SyntaxError.self) { try ExtensionHeader.parse(["a", "b;", "c"]) }
    }

    @Test("§9.1: serialization quotes values that are not tokens, and parses back")
    func serialize() throws {
        let offers = [ExtensionOffer("a", [P("x", "1"), P("flag")]), ExtensionOffer("b")]
        let header = ExtensionHeader.serialize(offers)
        #expect(header == "a; x=1; flag, b")
        #expect(try ExtensionHeader.parse([header]) == offers)
        #expect(ExtensionOffer("c", [P("v", "")]).description == #"c; v="""#)
    }
}

// MARK: Negotiation

@Suite("Extension negotiation (RFC 6455 §9.1, §5.2)")
struct ExtensionNegotiationTests {
    static let a = TestExtensionFactory(token: "x-a", reservedBits: .rsv1)
    static let b = TestExtensionFactory(token: "x-b", reservedBits: .rsv1)  // claims the same bit as x-a
    static let c = TestExtensionFactory(token: "x-c", reservedBits: .rsv2)
    static let d = TestExtensionFactory(token: "x-d", reservedBits: [])

    static func negotiate(_ header: String, _ factories: [any WebSocketExtensionFactory]) throws -> (names: [String], header: String?) {
        let negotiated = ExtensionNegotiation.serverNegotiate(offers: try ExtensionHeader.parse([header]), factories: factories)
        return (negotiated.extensions.map(\.name), negotiated.header)
    }

    @Test("§9.1: the server accepts in the client's order of preference and answers in that order")
    func clientOrder() throws {
        #expect(try Self.negotiate("x-c, x-a, x-d", [Self.a, Self.c, Self.d]) == (["x-c", "x-a", "x-d"], "x-c, x-a, x-d"))
        #expect(try Self.negotiate("x-d, x-c", [Self.c, Self.d]) == (["x-d", "x-c"], "x-d, x-c"))
    }

    @Test("§9.1: unknown tokens are skipped; nothing known gives no header")
    func unknownTokens() throws {
        #expect(try Self.negotiate("x-unknown; p=1, x-a", [Self.a]) == (["x-a"], "x-a"))
        #expect(try Self.negotiate("x-unknown", [Self.a]) == ([], nil))
        #expect(ExtensionNegotiation.serverNegotiate(offers: [], factories: [Self.a]).header == nil)
    }

    @Test("§5.2, §9.1: a second extension claiming an RSV bit already claimed is declined")
    func rsvConflictOnServer() throws {
        #expect(try Self.negotiate("x-a, x-b, x-c", [Self.a, Self.b, Self.c]) == (["x-a", "x-c"], "x-a, x-c"))
        #expect(try Self.negotiate("x-b, x-a", [Self.a, Self.b]) == (["x-b"], "x-b"))
    }

    @Test("§9.1: several offers of one token are alternatives: the first acceptable is answered, once")
    func alternatives() throws {
        #expect(try Self.negotiate("x-a; reject, x-a; v=2, x-a; v=3", [Self.a]) == (["x-a"], "x-a; v=2"))
        #expect(try Self.negotiate("x-a; reject", [Self.a]) == ([], nil))
    }

    @Test("§9.1: the client accepts what it offered, in the response's order")
    func clientAccepts() throws {
        let extensions = try ExtensionNegotiation.clientAccept(response: ["x-c, x-a"], factories: [Self.a, Self.c])
        #expect(extensions.map(\.name) == ["x-c", "x-a"])
        #expect(try ExtensionNegotiation.clientAccept(response: ["x-c", "x-a"], factories: [Self.a, Self.c]).map(\.name) == ["x-c", "x-a"])
        #expect(try ExtensionNegotiation.clientAccept(response: [], factories: [Self.a]).isEmpty)
        #expect(ExtensionNegotiation.clientOfferHeader([Self.a, Self.c]) == "x-a, x-c")
        #expect(ExtensionNegotiation.clientOfferHeader([]) == nil)
    }

    @Test("§9.1: the client fails on an extension it did not offer")
    func clientUnoffered() {
        #expect(throws: ExtensionNegotiationError.self) { try ExtensionNegotiation.clientAccept(response: ["x-b"], factories: [Self.a]) }
    }

    @Test("§9.1: the client fails on an extension answered twice")
    func clientDuplicate() {
        #expect(throws: ExtensionNegotiationError.self) { try ExtensionNegotiation.clientAccept(response: ["x-a, x-a"], factories: [Self.a]) }
        #expect(throws: ExtensionNegotiationError.self) { try ExtensionNegotiation.clientAccept(response: ["x-d", "x-d"], factories: [Self.d]) }
    }

    @Test("§5.2, §9.1: the client fails when two answered extensions claim the same RSV bit")
    func clientRSVConflict() {
        #expect(throws: ExtensionNegotiationError.self) {
            try ExtensionNegotiation.clientAccept(response: ["x-a, x-b"], factories: [Self.a, Self.b])
        }
    }

    @Test("§9.1: the client fails when the factory refuses the answered parameters, or the header is malformed")
    func clientRefusesParameters() {
        #expect(throws: ExtensionNegotiationError.self) { try ExtensionNegotiation.clientAccept(response: ["x-a; unknown"], factories: [Self.a]) }
        #expect(throws: ExtensionNegotiationError.self) { try ExtensionNegotiation.clientAccept(response: ["x-a;"], factories: [Self.a]) }
    }

    @Test("An extension that adopts those accepted before it takes them out of the connection's pipeline; the header keeps every answer in order")
    func adoptionOnServer() throws {
        let negotiated = ExtensionNegotiation.serverNegotiate(
            offers: try ExtensionHeader.parse(["x-a, x-c, x-sessions, x-a, x-d"]),
            factories: [Self.a, Self.c, Self.d, AdoptingExtensionFactory()])
        #expect(negotiated.extensions.map(\.name) == ["x-sessions", "x-a", "x-d"], "x-a may be answered again after the adoption")
        #expect((negotiated.extensions.first as? AdoptingExtension)?.adopted == ["x-a", "x-c"])
        #expect(negotiated.header == "x-a, x-c, x-sessions, x-a, x-d")
        // The reserved bits of what was adopted are free again: x-b claims RSV1 after it.
        let again = ExtensionNegotiation.serverNegotiate(
            offers: try ExtensionHeader.parse(["x-a, x-sessions, x-b"]),
            factories: [Self.a, Self.b, AdoptingExtensionFactory()])
        #expect(again.extensions.map(\.name) == ["x-sessions", "x-b"])
    }

    @Test("The client applies the same adoption to the server's answer, and still refuses a token answered twice on one side of it")
    func adoptionOnClient() throws {
        let factories: [any WebSocketExtensionFactory] = [Self.a, Self.c, AdoptingExtensionFactory()]
        let accepted = try ExtensionNegotiation.clientAccept(response: ["x-a, x-sessions, x-c"], factories: factories)
        #expect(accepted.map(\.name) == ["x-sessions", "x-c"])
        #expect((accepted.first as? AdoptingExtension)?.adopted == ["x-a"])
        #expect(throws: ExtensionNegotiationError.self) {
            try ExtensionNegotiation.clientAccept(response: ["x-sessions, x-c, x-c"], factories: factories)
        }
    }

    @Test("§9.1: the server handshake answers the negotiated extensions and hands over their instances")
    func throughServerHandshake() throws {
        var routes = WebSocketRoutes()
        routes.add("/chat", handler: NamedHandler(name: "x"))
        let handshake = WebSocketServerHandshake(routes: routes, extensions: [Self.a, Self.b, Self.c])
        let request = upgradeRequest {
            $0.append(("Sec-WebSocket-Extensions", "x-b, x-a"))
            $0.append(("Sec-WebSocket-Extensions", "x-c"))
        }
        let accepted = try #require(handshake.evaluate(request).accepted)
        #expect(accepted.extensions.map(\.name) == ["x-b", "x-c"])
        #expect(accepted.responseHeaders["Sec-WebSocket-Extensions"] == ["x-b, x-c"])
        // ... and a client that offered them accepts that answer.
        let client = WebSocketClientHandshake(host: "h", target: "/chat", extensions: [Self.a, Self.b, Self.c], key: sampleKey)
        let result = try client.validate(status: 101, headers: accepted.responseHeaders)
        #expect(result.extensions.map(\.name) == ["x-b", "x-c"])
    }
}

// MARK: Pipeline through the engine

@Suite("Extension pipeline in WebSocketEngine (RFC 6455 §9)")
struct ExtensionPipelineTests {
    @Test("§9.1: outgoing frames pass the extensions in listed order, incoming ones in reverse")
    func ordering() throws {
        let log = CallLog()
        var engine = WebSocketEngine(role: .server, extensions: [TagExtension(tag: 0x41, log: log), TagExtension(tag: 0x42, log: log)])
        #expect(engine.extensionNames == ["tag-A", "tag-B"])

        try engine.send(.binary(Array("x".utf8)))
        #expect(engine.sentFrames() == [frame(.binary, "xAB")])  // A applied first, B nearest the wire
        #expect(log.entries == ["A.encode(binary)", "B.encode(binary)"])

        log.entries = []
        #expect(engine.feed(clientFrame(.binary, Array("yAB".utf8))) == [.binary(Array("y".utf8))])
        #expect(log.entries == ["B.decode(binary)", "A.decode(binary)"])

        // The wrong order on the wire fails: B sees A's tag last.
        var other = WebSocketEngine(role: .server, extensions: [TagExtension(tag: 0x41, log: log), TagExtension(tag: 0x42, log: log)])
        #expect(other.feed(clientFrame(.binary, Array("yBA".utf8))) == [.failed(1002)])
    }

    @Test("§9: extensions see control frames both ways, including the automatic pong")
    func controlFrames() {
        let log = CallLog()
        var engine = WebSocketEngine(role: .server, extensions: [TagExtension(tag: 0x41, log: log), TagExtension(tag: 0x42, log: log)])
        #expect(engine.feed(clientFrame(.ping, Array("hi".utf8))) == [.ping(Array("hi".utf8))])
        #expect(log.entries == ["B.decode(ping)", "A.decode(ping)", "A.encode(pong)", "B.encode(pong)"])
        #expect(engine.sentFrames() == [frame(.pong, "hi")])
        log.entries = []
        engine.close(code: .normalClosure)
        #expect(log.entries == ["A.encode(close)", "B.encode(close)"])
    }

    @Test("§9: an extension may consume frames, reply to the peer, split frames, add frames and talk to the application")
    func consumingAndEmitting() throws {
        let log = CallLog()
        // chatty is applied first on the way out; tag-T is nearest the wire.
        var engine = WebSocketEngine(role: .server, extensions: [ChattyExtension(log: log), TagExtension(tag: 0x54, log: log)])

        // Consumed: nothing reaches the application, nothing is sent.
        #expect(engine.feed(clientFrame(.binary, Array("swallowT".utf8))) == [])
        #expect(engine.takeOutbound() == nil)

        // A reply to the peer passes only the extensions nearer the wire (tag-T), not chatty's encode.
        log.entries = []
        #expect(engine.feed(clientFrame(.binary, Array("knockT".utf8))) == [])
        #expect(engine.sentFrames() == [frame(.binary, "who's thereT")])
        #expect(log.entries == ["T.decode(binary)", "chatty.decode(binary knock)", "T.encode(binary)"])

        // Control frames of its own.
        #expect(engine.feed(clientFrame(.binary, Array("ping meT".utf8))) == [])
        #expect(engine.sentFrames() == [frame(.ping, "from chatty")])

        // One frame in, two messages out.
        #expect(
            engine.feed(clientFrame(.binary, Array("splitT".utf8)) + clientFrame(.binary, Array("plainT".utf8)))
                == [.binary(Array("sp".utf8)), .binary(Array("lit".utf8)), .binary(Array("plain".utf8))])

        // One message sent, two frames on the wire, each through tag-T.
        try engine.send(.binary(Array("hello".utf8)))
        #expect(engine.sentFrames() == [frame(.binary, "helloT"), frame(.binary, "extraT")])

        // An encode-side reply goes to the application and nothing to the peer.
        try engine.send(.binary(Array("loopback".utf8)))
        #expect(engine.takeOutbound() == nil)
        var empty = ByteBuffer()
        #expect(engine.receive(from: &empty).map(Event.init) == .binary(Array("echo:loopback".utf8)))
        #expect(engine.receive(from: &empty) == nil)
    }

    @Test("§5.2: an RSV bit is accepted on incoming frames only when a negotiated extension claims it")
    func claimedReservedBit() throws {
        var plain = WebSocketEngine(role: .server)
        #expect(plain.feed(clientFrame(rsv: 0x40, .binary, [1])) == [.failed(1002)])

        var engine = WebSocketEngine(role: .server, extensions: [RSV1Extension()])
        #expect(engine.feed(clientFrame(rsv: 0x40, .binary, [1])) == [.binary([1])])
        #expect(engine.feed(clientFrame(rsv: 0x20, .binary, [2])) == [.failed(1002)])

        var sender = WebSocketEngine(role: .server, extensions: [RSV1Extension()])
        try sender.send(.binary([3]))
        #expect(sender.takeOutbound()?.bytes == [0xC2, 0x01, 0x03])
    }

    @Test("§9: an extension's protocol error fails the connection with its code")
    func extensionFailure() {
        let log = CallLog()
        var engine = WebSocketEngine(role: .server, extensions: [TagExtension(tag: 0x41, log: log)])
        #expect(engine.feed(clientFrame(.binary, Array("untagged".utf8))) == [.failed(1002)])
        #expect(engine.failure != nil)
    }
}
