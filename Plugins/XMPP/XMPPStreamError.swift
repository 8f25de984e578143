/// A stream error (RFC 6120 §4.9): the condition, then the stream is closed.
public struct XMPPStreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The defined conditions this module sends (RFC 6120 §4.9.3).
    public enum Condition: String, Sendable, Hashable {
        case badFormat = "bad-format"
        case conflict
        case connectionTimeout = "connection-timeout"
        case hostUnknown = "host-unknown"
        case invalidFrom = "invalid-from"
        case invalidNamespace = "invalid-namespace"
        case notAuthorized = "not-authorized"
        case notWellFormed = "not-well-formed"
        case policyViolation = "policy-violation"
        case resourceConstraint = "resource-constraint"
        case restrictedXML = "restricted-xml"
        case systemShutdown = "system-shutdown"
        case unsupportedEncoding = "unsupported-encoding"
        case unsupportedStanzaType = "unsupported-stanza-type"
        case unsupportedVersion = "unsupported-version"
        case internalServerError = "internal-server-error"
    }

    public var condition: Condition
    /// Human-readable text for the log and the peer's `<text/>`.
    public var text: String

    public init(_ condition: Condition, _ text: String) {
        self.condition = condition
        self.text = text
    }

    public var description: String { "stream error \(condition.rawValue): \(text)" }

    /// `<stream:error>` with the condition and its text.
    var element: XElement {
        let condition = XElement(XName(self.condition.rawValue, namespace: XMPPNamespace.streamErrors))
        let text = XElement(XName("text", namespace: XMPPNamespace.streamErrors), text: self.text)
        return XElement(
            XName("error", namespace: XMPPNamespace.streams), declarations: [XNamespaceDeclaration(prefix: "stream", uri: XMPPNamespace.streams)],
            children: [.element(condition), .element(text)])
    }
}
