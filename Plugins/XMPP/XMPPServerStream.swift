import SwitchboardCore

/// One client's stream on the server (RFC 6120 §4-7 over RFC 7395 framing), as a state machine
/// that does no I/O: it takes each element the client sent (one per WebSocket message) and
/// returns what to do. Looking up an account and binding a resource are the driver's: the
/// machine asks for them with an action and is told the outcome.
///
/// ```
/// awaitingOpen --<open/>--> awaitingAuth --<auth/>--> (lookUpCredentials) --> scram | plain
///   scram --<response/>--> awaitingRestart --<open/>--> awaitingBind --<iq><bind/></iq>--> (bind) --> established
/// any state --<close/>--> closed;  a stream error from any state --> closed
/// ```
struct XMPPServerStream {
    enum Action: Equatable {
        /// Send this element as one message.
        case send(XElement)
        /// Look up the account's credentials, then call ``credentials(_:)``.
        case lookUpCredentials(username: String, mechanism: SCRAMMechanism)
        /// The client authenticated as `username`.
        case authenticated(username: String)
        /// Bind a resource (the requested one, or one the driver makes), then call ``bound(_:iqID:)``.
        case bind(requested: String?, iqID: String)
        /// A stanza of the established session, its `from` stamped: route it.
        case route(XElement)
        /// The stream is over: `<close/>` has been queued (after the error, if any); close the socket.
        case close(XMPPStreamError?)
    }

    enum State {
        case awaitingOpen
        case awaitingAuth
        case lookingUp(mechanism: SCRAMMechanism?, plain: (username: String, password: String)?, clientFirst: String)
        case scram(SCRAMServer)
        case awaitingRestart(username: String)
        case awaitingBind(username: String)
        case binding(username: String)
        case established(JID)
        case closed
    }

    let domain: String
    /// Whether PLAIN is offered (over TLS, to loopback peers, or when configured).
    let offersPlain: Bool
    /// SASL failures allowed before the stream ends (RFC 6120 §6.4.5).
    let maxAuthenticationAttempts: Int
    private(set) var state = State.awaitingOpen
    private var username: String?
    private let streamID: String
    private var failedAuthentications = 0

    init(domain: String, offersPlain: Bool, streamID: String, maxAuthenticationAttempts: Int = 3) {
        self.domain = domain
        self.offersPlain = offersPlain
        self.streamID = streamID
        self.maxAuthenticationAttempts = maxAuthenticationAttempts
    }

    var isEstablished: Bool { if case .established = state { true } else { false } }

    // MARK: Input

    mutating func receive(_ element: XElement) -> [Action] {
        if case .closed = state { return [] }
        if element.name == XName("close", namespace: XMPPNamespace.framing) {
            state = .closed
            return [.send(Self.closeElement), .close(nil)]
        }
        switch state {
        case .awaitingOpen:
            return open(element, restart: false)
        case .awaitingRestart(let name):
            username = name
            return open(element, restart: true)
        case .awaitingAuth:
            return auth(element)
        case .scram(var scram):
            guard element.name == XName("response", namespace: XMPPNamespace.sasl) else { return fail(.notAuthorized, "expected a SASL response") }
            guard let text = Self.decodeSASL(element.text) else { return saslFailure("incorrect-encoding") }
            do {
                let final = try scram.receiveClientFinal(text)
                let name = scram.username ?? ""
                state = .awaitingRestart(username: name)
                return [
                    .send(XElement(XName("success", namespace: XMPPNamespace.sasl), text: Base64.encode(Array(final.utf8)))),
                    .authenticated(username: name),
                ]
            } catch {
                return saslFailure(error == .notAuthorized ? "not-authorized" : "malformed-request")
            }
        case .lookingUp, .binding:
            // The client may not pipeline past an exchange it has not seen the end of.
            return fail(.policyViolation, "an element arrived while the server was still answering the last one")
        case .awaitingBind(let name):
            return bind(element, username: name)
        case .established(let jid):
            return established(element, jid: jid)
        case .closed:
            return []
        }
    }

    /// The account the driver looked up (`nil`: no such account).
    mutating func credentials(_ credentials: SCRAMCredentials?) -> [Action] {
        guard case .lookingUp(let mechanism, let plain, let clientFirst) = state else { return [] }
        if let plain {
            // PLAIN against stored SCRAM keys: derive the key from the password sent and compare.
            guard let credentials,
                SCRAMServer.constantTimeEqual(
                    SCRAMCredentials(
                        password: plain.password, mechanism: credentials.mechanism, iterations: credentials.iterations, salt: credentials.salt
                    ).storedKey, credentials.storedKey)
            else { return saslFailure("not-authorized") }
            state = .awaitingRestart(username: plain.username)
            return [.send(XElement(XName("success", namespace: XMPPNamespace.sasl))), .authenticated(username: plain.username)]
        }
        guard let mechanism else { return [] }
        var scram = SCRAMServer(mechanism: mechanism)
        var random = SystemRandomNumberGenerator()
        let nonce = Base64.encode((0..<18).map { _ in UInt8.random(in: .min ... .max, using: &random) })
        do {
            let serverFirst = try scram.receiveClientFirst(clientFirst, serverNonce: nonce) { _ in credentials }
            state = .scram(scram)
            return [.send(XElement(XName("challenge", namespace: XMPPNamespace.sasl), text: Base64.encode(Array(serverFirst.utf8))))]
        } catch {
            return saslFailure("malformed-request")
        }
    }

    /// The resource the driver bound.
    mutating func bound(_ jid: JID, iqID: String) -> [Action] {
        guard case .binding = state else { return [] }
        state = .established(jid)
        let bind = XElement(
            XName("bind", namespace: XMPPNamespace.bind),
            children: [.element(XElement(XName("jid", namespace: XMPPNamespace.bind), text: jid.description))])
        return [.send(Self.iq(type: "result", id: iqID, children: [bind]))]
    }

    // MARK: Steps

    private mutating func open(_ element: XElement, restart: Bool) -> [Action] {
        // An error in the opening itself still goes after an <open/> of ours (RFC 6120 §4.9.1.2).
        guard element.name == XName("open", namespace: XMPPNamespace.framing) else {
            return [.send(openElement)] + fail(.invalidNamespace, "the stream must start with <open xmlns='\(XMPPNamespace.framing)'/>")
        }
        guard element.attribute(XName("version")) == "1.0" else { return [.send(openElement)] + fail(.unsupportedVersion, "version 1.0 only") }
        guard element.attribute(XName("to"))?.lowercased() == domain else {
            return [.send(openElement)] + fail(.hostUnknown, "this server is \(domain)")
        }
        var features = XElement(
            XName("features", namespace: XMPPNamespace.streams), declarations: [XNamespaceDeclaration(prefix: "stream", uri: XMPPNamespace.streams)])
        if restart, let username {
            features.append(XElement(XName("bind", namespace: XMPPNamespace.bind)))
            features.append(
                XElement(
                    XName("session", namespace: XMPPNamespace.session),
                    children: [.element(XElement(XName("optional", namespace: XMPPNamespace.session)))]))
            state = .awaitingBind(username: username)
        } else {
            var mechanisms = XElement(XName("mechanisms", namespace: XMPPNamespace.sasl))
            for name in ["SCRAM-SHA-256", "SCRAM-SHA-1"] + (offersPlain ? ["PLAIN"] : []) {
                mechanisms.append(XElement(XName("mechanism", namespace: XMPPNamespace.sasl), text: name))
            }
            features.append(mechanisms)
            state = .awaitingAuth
        }
        return [.send(openElement), .send(features)]
    }

    private mutating func auth(_ element: XElement) -> [Action] {
        guard element.name == XName("auth", namespace: XMPPNamespace.sasl) else {
            return fail(.notAuthorized, "authenticate first")
        }
        guard let payload = Self.decodeSASL(element.text) else { return saslFailure("incorrect-encoding") }
        switch element.attribute(XName("mechanism")) {
        case let name? where SCRAMMechanism(rawValue: name) != nil:
            let mechanism = SCRAMMechanism(rawValue: name)!
            guard let bare = payload.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).last,
                let escaped = SCRAMServer.attributes(String(bare))["n"], let user = SCRAMServer.unescape(escaped)
            else { return saslFailure("malformed-request") }
            state = .lookingUp(mechanism: mechanism, plain: nil, clientFirst: payload)
            return [.lookUpCredentials(username: user, mechanism: mechanism)]
        case "PLAIN"? where offersPlain:
            // authzid NUL authcid NUL password (RFC 4616 §2); an authzid other than our own is not supported.
            let parts = payload.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts[1].isEmpty, parts[0].isEmpty || parts[0] == "\(parts[1])@\(domain)" else {
                return saslFailure("malformed-request")
            }
            state = .lookingUp(mechanism: nil, plain: (parts[1], parts[2]), clientFirst: "")
            return [.lookUpCredentials(username: parts[1], mechanism: .sha256)]
        default:
            return saslFailure("invalid-mechanism")
        }
    }

    private mutating func bind(_ element: XElement, username: String) -> [Action] {
        guard element.name == XName("iq", namespace: XMPPNamespace.client) || element.name == XName("iq"),
            element.attribute(XName("type")) == "set", let id = element.attribute(XName("id")),
            let bind = element.element(XName("bind", namespace: XMPPNamespace.bind))
        else { return fail(.notAuthorized, "bind a resource first") }
        let requested = bind.element(XName("resource", namespace: XMPPNamespace.bind))?.text
        state = .binding(username: username)
        return [.bind(requested: requested.flatMap { $0.isEmpty ? nil : $0 }, iqID: id)]
    }

    private mutating func established(_ element: XElement, jid: JID) -> [Action] {
        guard element.name.namespace == XMPPNamespace.client || element.name.namespace == nil,
            ["message", "presence", "iq"].contains(element.name.local)
        else { return fail(.unsupportedStanzaType, "\(element.name) is not a stanza") }
        // A `from` the client sets must be its own full or bare JID (RFC 6120 §8.1.2.1).
        if let claimed = element.attribute(XName("from")), JID(claimed).map({ $0 == jid || $0 == jid.bare }) != true {
            return fail(.invalidFrom, "from '\(claimed)' is not \(jid)")
        }
        var stanza = element
        stanza.name = XName(element.name.local, namespace: XMPPNamespace.client)
        // The server stamps the sender's full JID (RFC 6120 §8.1.2.1).
        stanza.attributes.removeAll { $0.name == XName("from") }
        stanza.attributes.append(XAttribute(XName("from"), jid.description))
        if stanza.name.local == "iq", stanza.attribute(XName("type")) == "set",
            stanza.element(XName("session", namespace: XMPPNamespace.session)) != nil,
            let id = stanza.attribute(XName("id"))
        {
            return [.send(Self.iq(type: "result", id: id, children: []))]
        }
        return [.route(stanza)]
    }

    // MARK: Writing

    private var openElement: XElement {
        XElement(
            XName("open", namespace: XMPPNamespace.framing),
            attributes: [
                XAttribute(XName("from"), domain), XAttribute(XName("id"), streamID), XAttribute(XName("version"), "1.0"),
                XAttribute(XName("lang", namespace: "http://www.w3.org/XML/1998/namespace"), "en"),
            ])
    }

    static let closeElement = XElement(XName("close", namespace: XMPPNamespace.framing))
    /// How `<close/>` is written: Strophe.js (1.2) takes a server's close for one only when it is
    /// exactly this text, space included.
    static let closeText = #"<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" />"#

    static func iq(type: String, id: String, children: [XElement]) -> XElement {
        XElement(
            XName("iq", namespace: XMPPNamespace.client), attributes: [XAttribute(XName("type"), type), XAttribute(XName("id"), id)],
            children: children.map(XNode.element))
    }

    /// A stream error, then `<close/>` (RFC 7395 §3.6).
    mutating func fail(_ condition: XMPPStreamError.Condition, _ text: String) -> [Action] {
        state = .closed
        let error = XMPPStreamError(condition, text)
        return [.send(error.element), .send(Self.closeElement), .close(error)]
    }

    /// A SASL failure (RFC 6120 §6.5): the client may try again, a bounded number of times (§6.4.5).
    private mutating func saslFailure(_ condition: String) -> [Action] {
        state = .awaitingAuth
        failedAuthentications += 1
        let failure = Action.send(
            XElement(XName("failure", namespace: XMPPNamespace.sasl), children: [.element(XElement(XName(condition, namespace: XMPPNamespace.sasl)))])
        )
        guard failedAuthentications < maxAuthenticationAttempts else {
            return [failure] + fail(.policyViolation, "\(failedAuthentications) failed authentications")
        }
        return [failure]
    }

    /// SASL payloads are base64; `=` is the empty payload (RFC 6120 §6.4.2).
    static func decodeSASL(_ text: String) -> String? {
        let trimmed = text.trimmingXMLWhitespace()
        if trimmed == "=" || trimmed.isEmpty { return "" }
        return Base64.decode(trimmed).map { String(decoding: $0, as: UTF8.self) }
    }
}
