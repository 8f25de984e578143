/// One SOAP message as this module reads and writes it: the envelope's version, its header
/// blocks and the children of its body.
struct SOAPEnvelope {
    var version: SOAPVersion
    var headers: [XElement]
    var body: [XElement]
    /// The namespace declarations in scope at the body's children (the envelope's, the body's),
    /// for QName-valued text such as a fault code.
    var bodyScope: [XNamespaceDeclaration] = []

    /// Why a document is not an envelope this end can take: answered with `fault`, written in `version`.
    struct Rejection: Error {
        var fault: SOAPFault
        var version: SOAPVersion
    }

    /// Reads `root` as an envelope, by the rules of SOAP 1.2 Part 1 §5 (and SOAP 1.1 §4):
    /// the root is `Envelope` in a known namespace, then an optional `Header`, then `Body`,
    /// then nothing (1.2). An envelope of the other known version is a VersionMismatch
    /// answered in that version (SOAP 1.2 Appendix A); an unknown root, one in ours.
    static func read(_ root: XElement, expecting expected: SOAPVersion) throws(Rejection) -> SOAPEnvelope {
        guard root.name.local == "Envelope", let version = SOAPVersion(envelopeNamespace: root.name.namespace) else {
            throw Rejection(
                fault: SOAPFault(.versionMismatch, reason: "the root element \(root.name) is not a SOAP \(expected.rawValue) Envelope"),
                version: expected)
        }
        guard version == expected else {
            throw Rejection(
                fault: SOAPFault(
                    .versionMismatch,
                    reason: "this connection speaks SOAP \(expected.rawValue) (soap-content-type \(expected.mediaType)), not \(version.rawValue)"),
                version: version)
        }
        var children = root.elements
        var headers: [XElement] = []
        if let first = children.first, first.name == version.name("Header") {
            headers = first.elements
            children.removeFirst()
        }
        guard let body = children.first, body.name == version.name("Body") else {
            throw Rejection(fault: SOAPFault(.sender, reason: "the envelope has no Body after its Header"), version: version)
        }
        guard children.count == 1 || version == .soap11 else {
            throw Rejection(fault: SOAPFault(.sender, reason: "a SOAP 1.2 envelope has nothing after its Body"), version: version)
        }
        return SOAPEnvelope(version: version, headers: headers, body: body.elements, bodyScope: root.declarations + body.declarations)
    }

    /// The envelope's bytes: `Envelope`, `Header` when there are header blocks, `Body`.
    func serialized() -> [UInt8] {
        let prefix = version == .soap12 ? "env" : "soap"
        var declarations = [XNamespaceDeclaration(prefix: prefix, uri: version.envelopeNamespace)]
        if headers.contains(where: { $0.name.namespace == Addressing.namespace }) {
            declarations.append(XNamespaceDeclaration(prefix: "wsa", uri: Addressing.namespace))
        }
        var envelope = XElement(version.name("Envelope"), declarations: declarations)
        if !headers.isEmpty { envelope.append(XElement(version.name("Header"), children: headers.map(XNode.element))) }
        envelope.append(XElement(version.name("Body"), children: body.map(XNode.element)))
        var out: [UInt8] = []
        out.reserveCapacity(512)
        XMLWriter.write(envelope, to: &out)
        return out
    }
}

extension XNamespaceDeclaration {
    /// `prefix:local` resolved against `scope` (innermost last); an unprefixed QName is in the
    /// default namespace, or none.
    static func resolve(_ qualifiedName: String, in scope: [XNamespaceDeclaration]) -> XName? {
        let text = qualifiedName.trimmingXMLWhitespace()
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 1 {
            let uri = scope.last { $0.prefix.isEmpty }?.uri
            return XName(text, namespace: uri.flatMap { $0.isEmpty ? nil : $0 })
        }
        guard let uri = scope.last(where: { $0.prefix == String(parts[0]) })?.uri, !parts[1].isEmpty else { return nil }
        return XName(String(parts[1]), namespace: uri)
    }
}
