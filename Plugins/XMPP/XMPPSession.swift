import SwitchboardCalls
import Synchronization

/// A logged-in client's stream: send messages, presence and iqs; read what arrives.
public final class XMPPSession: Sendable {
    /// The full JID the server bound.
    public let jid: JID
    /// Messages, presence and iqs addressed to this client (iqs it answers itself, pings, are not here).
    public let incoming: AsyncStream<XElement>
    private let continuation: AsyncStream<XElement>.Continuation
    private let writer: ElementWriter
    private let timeout: Duration
    private let pending = PendingCalls<XElement>(closedError: XMPPClientError.connectionClosed) { _, _ in XMPPClientError.timedOut }

    init(jid: JID, writer: ElementWriter, timeout: Duration) {
        self.jid = jid
        self.writer = writer
        self.timeout = timeout
        (incoming, continuation) = AsyncStream.makeStream(of: XElement.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Sends a chat message.
    public func send(message body: String, to: JID, type: String = "chat") async throws {
        try await send(
            XElement(
                XName("message", namespace: XMPPNamespace.client),
                attributes: [XAttribute(XName("to"), to.description), XAttribute(XName("type"), type)],
                children: [.element(XElement(XName("body", namespace: XMPPNamespace.client), text: body))]))
    }

    /// Sends presence: available by default, to everyone subscribed unless `to` is given.
    public func sendPresence(type: String? = nil, to: JID? = nil) async throws {
        var attributes: [XAttribute] = []
        if let type { attributes.append(XAttribute(XName("type"), type)) }
        if let to { attributes.append(XAttribute(XName("to"), to.description)) }
        try await send(XElement(XName("presence", namespace: XMPPNamespace.client), attributes: attributes))
    }

    /// Sends an iq and waits for its result; an error answer throws ``XMPPClientError/iqError(_:)``.
    @discardableResult
    public func iq(_ type: String, _ payload: XElement?, to: JID? = nil, timeout: Duration? = nil) async throws -> XElement {
        let number = try pending.open(method: "iq", timeout: timeout ?? self.timeout)
        var attributes = [XAttribute(XName("type"), type), XAttribute(XName("id"), "sb\(number)")]
        if let to { attributes.append(XAttribute(XName("to"), to.description)) }
        do {
            try await send(
                XElement(XName("iq", namespace: XMPPNamespace.client), attributes: attributes, children: payload.map { [.element($0)] } ?? []))
        } catch {
            pending.discard(number)
            throw error
        }
        let answer = try await pending.wait(for: number)
        guard answer.attribute(XName("type")) == "result" else { throw XMPPClientError.iqError(Self.condition(of: answer)) }
        return answer
    }

    /// XEP-0199 ping of the server (or of `to`).
    public func ping(_ to: JID? = nil) async throws { try await iq("get", XElement(XName("ping", namespace: "urn:xmpp:ping")), to: to) }

    /// Sends any stanza as it is.
    public func send(_ stanza: XElement) async throws { try await writer.send(stanza) }

    // MARK: Internal

    func receive(_ element: XElement) async {
        if element.name.local == "iq", let type = element.attribute(XName("type")) {
            if type == "result" || type == "error", let id = element.attribute(XName("id")), id.hasPrefix("sb"), let number = Int(id.dropFirst(2)) {
                pending.complete(number, with: .success(element))
                return
            }
            if type == "get", element.element(XName("ping", namespace: "urn:xmpp:ping")) != nil {
                // Every entity answers pings (XEP-0199 §4.2).
                var answer = XElement(XName("iq", namespace: XMPPNamespace.client), attributes: [XAttribute(XName("type"), "result")])
                if let id = element.attribute(XName("id")) { answer.attributes.append(XAttribute(XName("id"), id)) }
                if let from = element.attribute(XName("from")) { answer.attributes.append(XAttribute(XName("to"), from)) }
                try? await send(answer)
                return
            }
        }
        continuation.yield(element)
    }

    func connectionClosed() {
        pending.closeAll()
        continuation.finish()
    }

    static func condition(of stanza: XElement) -> String {
        stanza.element(XName("error", namespace: XMPPNamespace.client))?.elements.first { $0.name.namespace == XMPPNamespace.stanzaErrors }?.name
            .local
            ?? "undefined-condition"
    }
}
