import Logging
import NIOCore
import SwitchboardCalls
import SwitchboardCore
import Synchronization

/// An XMPP client over WebSocket (RFC 7395), as a handler: run it on a `WebSocketConnector`
/// connection offering ``XMPPServer/token``. It opens the stream, authenticates (SCRAM-SHA-256,
/// then SCRAM-SHA-1, then PLAIN, whichever the server offers first in that order), binds a
/// resource and hands the session to `body`; when `body` returns, it closes the stream. A
/// stream error from the server (`system-shutdown`, or `conflict` when another login takes the
/// resource) ends `session.incoming` and is thrown from `handle` as
/// ``XMPPClientError/streamError(_:_:)``.
///
/// ```swift
/// let client = XMPPClient(jid: JID("alice@localhost")!, password: "secret") { session in
///     try await session.sendPresence()
///     try await session.send(message: "hi", to: JID("bob@localhost")!)
///     for await stanza in session.incoming { print(stanza) ; break }
/// }
/// try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [XMPPServer.token])) {
///     try await client.handle($0, $1, context: $2)
/// }
/// ```
public struct XMPPClient: WebSocketHandler {
    public let jid: JID
    private let password: String
    private let timeout: Duration
    private let body: @Sendable (XMPPSession) async throws -> Void

    /// - Parameters:
    ///   - jid: the account (`user@domain`), with the resource to ask for, if any.
    ///   - password: the account's password, for SCRAM.
    ///   - timeout: how long each step of the login and each iq waits for its answer. Default 10 s.
    ///   - body: what the client does once its session is bound; the stream closes when it returns.
    public init(jid: JID, password: String, timeout: Duration = .seconds(10), _ body: @escaping @Sendable (XMPPSession) async throws -> Void) {
        self.jid = jid
        self.password = password
        self.timeout = timeout
        self.body = body
    }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        var reader = ElementReader(iterator: inbound.makeAsyncIterator(), timeout: timeout, outbound: outbound)
        let writer = ElementWriter(outbound: outbound)
        guard let username = jid.localpart else { throw XMPPClientError.authenticationFailed("the JID has no localpart") }

        var features = try await openStream(&reader, writer)
        let mechanisms = features.element(XName("mechanisms", namespace: XMPPNamespace.sasl))?.elements.map(\.text) ?? []
        if let mechanism = [SCRAMMechanism.sha256, .sha1].first(where: { mechanisms.contains($0.rawValue) }) {
            var scram = SCRAMClient(mechanism: mechanism, username: username, password: password)
            try await writer.send(Self.sasl("auth", mechanism: mechanism.rawValue, payload: scram.clientFirst))
            let challenge = try await reader.expectSASL("challenge")
            let final: String
            do { final = try scram.receiveServerFirst(challenge) } catch { throw Self.clientError(error) }
            try await writer.send(Self.sasl("response", payload: final))
            let success = try await reader.expectSASL("success")
            do { try scram.receiveServerFinal(success) } catch { throw Self.clientError(error) }
        } else if mechanisms.contains("PLAIN") {
            try await writer.send(Self.sasl("auth", mechanism: "PLAIN", payload: "\0\(username)\0\(password)"))
            _ = try await reader.expectSASL("success")
        } else {
            throw XMPPClientError.authenticationFailed("no mechanism in common (the server offers \(mechanisms))")
        }

        // The restart (RFC 7395 §3.7), then bind (RFC 6120 §7).
        features = try await openStream(&reader, writer)
        guard features.element(XName("bind", namespace: XMPPNamespace.bind)) != nil else {
            throw XMPPClientError.protocolViolation("no bind feature")
        }
        var bind = XElement(XName("bind", namespace: XMPPNamespace.bind))
        if let resource = jid.resource { bind.append(XElement(XName("resource", namespace: XMPPNamespace.bind), text: resource)) }
        try await writer.send(XMPPServerStream.iq(type: "set", id: "bind", children: [bind]))
        let bound = try await reader.expectIQResult(id: "bind")
        guard let text = bound.element(XName("bind", namespace: XMPPNamespace.bind))?.element(XName("jid", namespace: XMPPNamespace.bind))?.text,
            let full = JID(text)
        else { throw XMPPClientError.protocolViolation("the bind result has no JID") }
        if let session = features.element(XName("session", namespace: XMPPNamespace.session)),
            session.element(XName("optional", namespace: XMPPNamespace.session)) == nil
        {
            try await writer.send(
                XMPPServerStream.iq(type: "set", id: "session", children: [XElement(XName("session", namespace: XMPPNamespace.session))]))
            _ = try await reader.expectIQResult(id: "session")
        }

        let session = XMPPSession(jid: full, writer: writer, timeout: timeout)
        let body = self.body
        // The body runs beside; this task reads until the server's <close/> or the socket's end.
        var ended: XMPPClientError?
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { Task { try? await writer.send(XMPPServerStream.closeElement) } }
                try await body(session)
            }
            defer { session.connectionClosed() }
            while let message = try await reader.iterator.next() {
                guard let element = ElementReader.parse(message) else { continue }
                if element.name == XName("close", namespace: XMPPNamespace.framing) { break }
                if let error = ElementReader.streamError(element) {
                    ended = error  // <close/> follows (RFC 7395 §3.6)
                    continue
                }
                await session.receive(element)
            }
            session.connectionClosed()
            try await group.next()
        }
        // The server ended the stream (system-shutdown, conflict, ...): the caller learns why.
        if let ended { throw ended }
    }

    private func openStream(_ reader: inout ElementReader, _ writer: ElementWriter) async throws -> XElement {
        try await writer.send(
            XElement(
                XName("open", namespace: XMPPNamespace.framing),
                attributes: [XAttribute(XName("to"), jid.domain), XAttribute(XName("version"), "1.0")]))
        let open = try await reader.next()
        guard open.name == XName("open", namespace: XMPPNamespace.framing) else {
            throw XMPPClientError.protocolViolation("expected <open/>, got \(open.name)")
        }
        let features = try await reader.next()
        guard features.name == XName("features", namespace: XMPPNamespace.streams) else {
            throw XMPPClientError.protocolViolation("expected stream features, got \(features.name)")
        }
        return features
    }

    private static func sasl(_ name: String, mechanism: String? = nil, payload: String) -> XElement {
        XElement(
            XName(name, namespace: XMPPNamespace.sasl), attributes: mechanism.map { [XAttribute(XName("mechanism"), $0)] } ?? [],
            text: payload.isEmpty ? "=" : Base64.encode(Array(payload.utf8)))
    }

    private static func clientError(_ failure: SCRAMClient.Failure) -> XMPPClientError {
        switch failure {
        case .malformed(let reason): .protocolViolation(reason)
        case .serverNotAuthenticated: .authenticationFailed("the server's SCRAM signature is wrong")
        }
    }
}

/// Reads the login's elements one message at a time, each wait bounded.
struct ElementReader {
    var iterator: WebSocketInbound.AsyncIterator
    let timeout: Duration
    let outbound: WebSocketOutbound

    static func parse(_ message: WebSocketMessage) -> XElement? {
        let limits = XMLLimits(maxDepth: 32, maxAttributesPerElement: 32, maxNamespaceDeclarations: 32, allowsComments: false)
        return try? message.data.withUnsafeReadableBytes { bytes throws(XMLParseError) in try XMLParser.parse(bytes, limits: limits) }
    }

    mutating func next() async throws -> XElement {
        // A watchdog closes the socket when no answer comes in time, which ends the read below.
        let fired = Atomic<Bool>(false)
        let (outbound, timeout) = (self.outbound, self.timeout)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            fired.store(true, ordering: .relaxed)
            try? await outbound.close(.policyViolation, reason: "no answer in time")
        }
        defer { watchdog.cancel() }
        let message = try await iterator.next()
        if fired.load(ordering: .relaxed) { throw XMPPClientError.timedOut }
        guard let message else { throw XMPPClientError.connectionClosed }
        guard let element = Self.parse(message) else { throw XMPPClientError.protocolViolation("a message that is not one XML element") }
        if let error = Self.streamError(element) { throw error }
        return element
    }

    /// The error a `<stream:error/>` carries; `nil` for any other element.
    static func streamError(_ element: XElement) -> XMPPClientError? {
        guard element.name == XName("error", namespace: XMPPNamespace.streams) else { return nil }
        let condition = element.elements.first { $0.name.namespace == XMPPNamespace.streamErrors && $0.name.local != "text" }
        let text = element.element(XName("text", namespace: XMPPNamespace.streamErrors))?.text ?? ""
        return .streamError(condition.flatMap { XMPPStreamError.Condition(rawValue: $0.name.local) } ?? .internalServerError, text)
    }

    /// The payload of a SASL `challenge` or `success`; a `failure` throws its condition.
    mutating func expectSASL(_ name: String) async throws -> String {
        let element = try await next()
        if element.name == XName("failure", namespace: XMPPNamespace.sasl) {
            throw XMPPClientError.authenticationFailed(element.elements.first?.name.local ?? "failure")
        }
        guard element.name == XName(name, namespace: XMPPNamespace.sasl) else { throw XMPPClientError.protocolViolation("expected SASL \(name)") }
        return XMPPServerStream.decodeSASL(element.text) ?? ""
    }

    mutating func expectIQResult(id: String) async throws -> XElement {
        let element = try await next()
        guard element.name.local == "iq", element.attribute(XName("id")) == id else {
            throw XMPPClientError.protocolViolation("expected the iq \(id)")
        }
        guard element.attribute(XName("type")) == "result" else { throw XMPPClientError.iqError(XMPPSession.condition(of: element)) }
        return element
    }
}

/// Writes elements as messages.
struct ElementWriter: Sendable {
    let outbound: WebSocketOutbound

    func send(_ element: XElement) async throws {
        var out: [UInt8] = []
        XMLWriter.write(element, to: &out)
        try await outbound.send(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: out)))
    }
}
