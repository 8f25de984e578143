import SwitchboardCore
import SwitchboardXML
import Testing

@testable import XMPP

private let framing = "urn:ietf:params:xml:ns:xmpp-framing"
private let sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
private let client = "jabber:client"
private let limits = XMLLimits(maxDepth: 16, maxAttributesPerElement: 16, maxNamespaceDeclarations: 16, allowsComments: false)

private func element(_ text: String) throws -> XElement { try XMLParser.parse(Array(text.utf8), limits: limits) }
private let open = "<open xmlns='\(framing)' to='localhost' version='1.0'/>"

/// What the machine sent, in order.
private func sent(_ actions: [XMPPServerStream.Action]) -> [XElement] {
    actions.compactMap { if case .send(let element) = $0 { element } else { nil } }
}

private func streamError(_ actions: [XMPPServerStream.Action]) -> XMPPStreamError.Condition? {
    for case .close(let error?) in actions { return error.condition }
    return nil
}

@Suite struct XMPPServerStreamTests {
    let credentials = SCRAMCredentials(password: "secret", mechanism: .sha1, iterations: 64)

    /// Drives a whole login with SCRAM-SHA-1 and returns the established machine.
    func login(password: String = "secret", resource: String? = "phone") throws -> XMPPServerStream {
        var stream = XMPPServerStream(domain: "localhost", offersPlain: false, streamID: "s1")
        let opened = sent(stream.receive(try element(open)))
        #expect(opened.map(\.name.local) == ["open", "features"])
        #expect(opened[0].attribute(XName("from")) == "localhost" && opened[0].attribute(XName("id")) == "s1")
        let mechanisms = opened[1].element(XName("mechanisms", namespace: sasl))?.elements.map(\.text)
        #expect(mechanisms == ["SCRAM-SHA-256", "SCRAM-SHA-1"])  // no PLAIN on an insecure, non-loopback stream

        var scram = SCRAMClient(mechanism: .sha1, username: "alice", password: password)
        let auth = "<auth xmlns='\(sasl)' mechanism='SCRAM-SHA-1'>\(Base64.encode(Array(scram.clientFirst.utf8)))</auth>"
        #expect(stream.receive(try element(auth)) == [.lookUpCredentials(username: "alice", mechanism: .sha1)])
        let challenge = try #require(sent(stream.credentials(credentials)).first)
        #expect(challenge.name == XName("challenge", namespace: sasl))
        let serverFirst = String(decoding: try #require(Base64.decode(challenge.text)), as: UTF8.self)
        let final = try scram.receiveServerFirst(serverFirst)
        let outcome = stream.receive(try element("<response xmlns='\(sasl)'>\(Base64.encode(Array(final.utf8)))</response>"))
        guard outcome.contains(.authenticated(username: "alice")) else { throw SASLRefused() }
        let success = try #require(sent(outcome).first)
        try scram.receiveServerFinal(String(decoding: try #require(Base64.decode(success.text)), as: UTF8.self))

        let restarted = sent(stream.receive(try element(open)))
        #expect(restarted[1].element(XName("bind", namespace: "urn:ietf:params:xml:ns:xmpp-bind")) != nil)
        let resourceElement = resource.map { "<resource>\($0)</resource>" } ?? ""
        let bindAction = stream.receive(
            try element("<iq xmlns='\(client)' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\(resourceElement)</bind></iq>"))
        #expect(bindAction == [.bind(requested: resource, iqID: "b1")])
        let result = try #require(
            sent(stream.bound(JID(localpart: "alice", domain: "localhost", resource: resource ?? "generated"), iqID: "b1")).first)
        #expect(result.attribute(XName("type")) == "result")
        #expect(stream.isEstablished)
        return stream
    }

    struct SASLRefused: Error {}

    @Test func scramLoginBindAndRouting() throws {
        var stream = try login()
        let actions = stream.receive(
            try element("<message xmlns='\(client)' to='bob@localhost' from='alice@localhost' type='chat'><body>hi</body></message>"))
        guard case .route(let stanza)? = actions.first else {
            Issue.record("not routed: \(actions)")
            return
        }
        #expect(stanza.attribute(XName("from")) == "alice@localhost/phone")  // the bare JID it gave, stamped full
        #expect(stanza.attribute(XName("to")) == "bob@localhost")
        // RFC 3921's session request is answered, not routed.
        let session = sent(
            stream.receive(try element("<iq xmlns='\(client)' type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")))
        #expect(session.first?.attribute(XName("type")) == "result")
        #expect(stream.receive(try element("<close xmlns='\(framing)'/>")).last == .close(nil))
    }

    @Test func wrongPasswordIsASASLFailure() throws {
        #expect(throws: SASLRefused.self) { try login(password: "wrong") }
    }

    @Test("RFC 6120 §8.1.2.1: a from that is not the client's own full or bare JID is the stream error invalid-from")
    func forgedFromIsInvalidFrom() throws {
        for forged in ["mallory@evil", "bob@localhost", "alice@localhost/other", "not a jid@@"] {
            var stream = try login()
            let actions = stream.receive(try element("<message xmlns='\(client)' to='bob@localhost' from='\(forged)'><body>hi</body></message>"))
            #expect(streamError(actions) == .invalidFrom, "from \(forged)")
            #expect(!actions.contains { if case .route = $0 { true } else { false } })
        }
    }

    @Test("RFC 6120 §6.4.5: SASL failures are retried a bounded number of times, then policy-violation")
    func failedAuthenticationsAreBounded() throws {
        var stream = XMPPServerStream(domain: "localhost", offersPlain: true, streamID: "s", maxAuthenticationAttempts: 3)
        _ = stream.receive(try element(open))
        let stored = SCRAMCredentials(password: "secret", mechanism: .sha256, iterations: 64)
        for attempt in 1...3 {
            _ = stream.receive(try element("<auth xmlns='\(sasl)' mechanism='PLAIN'>\(Base64.encode(Array("\0alice\0guess\(attempt)".utf8)))</auth>"))
            let actions = stream.credentials(stored)
            #expect(sent(actions).first?.elements.first?.name.local == "not-authorized")
            #expect(streamError(actions) == (attempt == 3 ? .policyViolation : nil), "attempt \(attempt)")
        }
        #expect(stream.receive(try element("<auth xmlns='\(sasl)' mechanism='PLAIN'>=</auth>")).isEmpty)  // closed
    }

    @Test func plainOnlyWhereOffered() throws {
        var closed = XMPPServerStream(domain: "localhost", offersPlain: false, streamID: "s")
        _ = closed.receive(try element(open))
        let plain = Base64.encode(Array("\0alice\0secret".utf8))
        let refused = sent(closed.receive(try element("<auth xmlns='\(sasl)' mechanism='PLAIN'>\(plain)</auth>")))
        #expect(refused.first?.elements.first?.name.local == "invalid-mechanism")

        var offering = XMPPServerStream(domain: "localhost", offersPlain: true, streamID: "s")
        let features = sent(offering.receive(try element(open)))
        #expect(features[1].element(XName("mechanisms", namespace: sasl))?.elements.map(\.text).contains("PLAIN") == true)
        #expect(
            offering.receive(try element("<auth xmlns='\(sasl)' mechanism='PLAIN'>\(plain)</auth>")) == [
                .lookUpCredentials(username: "alice", mechanism: .sha256)
            ])
        let stored = SCRAMCredentials(password: "secret", mechanism: .sha256, iterations: 64)
        #expect(offering.credentials(stored).contains(.authenticated(username: "alice")))

        var wrong = XMPPServerStream(domain: "localhost", offersPlain: true, streamID: "s")
        _ = wrong.receive(try element(open))
        _ = wrong.receive(try element("<auth xmlns='\(sasl)' mechanism='PLAIN'>\(Base64.encode(Array("\0alice\0nope".utf8)))</auth>"))
        #expect(sent(wrong.credentials(stored)).first?.elements.first?.name.local == "not-authorized")
    }

    @Test(arguments: [
        ("<open xmlns='\(framing)' to='elsewhere' version='1.0'/>", XMPPStreamError.Condition.hostUnknown),
        ("<open xmlns='\(framing)' to='localhost' version='2.0'/>", .unsupportedVersion),
        ("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'/>", .invalidNamespace),
    ])
    func badOpens(_ text: String, _ condition: XMPPStreamError.Condition) throws {
        var stream = XMPPServerStream(domain: "localhost", offersPlain: false, streamID: "s")
        let actions = stream.receive(try element(text))
        #expect(streamError(actions) == condition)
        // Our <open/> even so (RFC 6120 §4.9.1.2), the error, then <close/> (RFC 7395 §3.6).
        #expect(sent(actions).map(\.name.local) == ["open", "error", "close"])
        #expect(stream.receive(try element(open)).isEmpty)  // nothing after
    }

    @Test func stanzasBeforeAuthenticationAndPipeliningAreStreamErrors() throws {
        var early = XMPPServerStream(domain: "localhost", offersPlain: false, streamID: "s")
        _ = early.receive(try element(open))
        #expect(streamError(early.receive(try element("<message xmlns='\(client)' to='b@localhost'/>"))) == .notAuthorized)

        var hasty = XMPPServerStream(domain: "localhost", offersPlain: false, streamID: "s")
        _ = hasty.receive(try element(open))
        _ = hasty.receive(try element("<auth xmlns='\(sasl)' mechanism='SCRAM-SHA-1'>\(Base64.encode(Array("n,,n=alice,r=abc".utf8)))</auth>"))
        #expect(streamError(hasty.receive(try element("<response xmlns='\(sasl)'>=</response>"))) == .policyViolation)

        var established = try login(resource: nil)
        #expect(streamError(established.receive(try element("<unknown xmlns='urn:x'/>"))) == .unsupportedStanzaType)
    }
}
