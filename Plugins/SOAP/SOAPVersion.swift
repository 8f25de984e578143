/// The two SOAP versions, each with its envelope namespace and media type.
///
/// [MS-SWSB] has the client name the media type of its messages in the handshake's
/// `soap-content-type` header; a server speaks the version that media type names on that
/// connection. SOAP 1.2 is the default, as in [MS-SWSB], which specifies SOAP 1.2 only:
/// SOAP 1.1 (`text/xml`) is here for the many SOAP stacks that speak nothing else.
public enum SOAPVersion: String, Sendable, Hashable, CaseIterable {
    case soap11 = "1.1"
    case soap12 = "1.2"

    /// The namespace of `Envelope`, `Header`, `Body` and `Fault`.
    public var envelopeNamespace: String {
        switch self {
        case .soap11: "http://schemas.xmlsoap.org/soap/envelope/"
        case .soap12: "http://www.w3.org/2003/05/soap-envelope"
        }
    }

    /// The media type of an envelope, as sent in `soap-content-type`.
    public var mediaType: String {
        switch self {
        case .soap11: "text/xml"
        case .soap12: "application/soap+xml"
        }
    }

    /// The `soap-content-type` value a client sends: the media type with `charset=utf-8`.
    public var contentType: String { "\(mediaType); charset=utf-8" }

    /// The version whose media type a `soap-content-type` value names (parameters ignored),
    /// or `nil` for any other media type.
    public init?(contentType: String) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingXMLWhitespace().lowercased() } ?? ""
        guard let version = Self.allCases.first(where: { $0.mediaType == mediaType }) else { return nil }
        self = version
    }

    /// The version whose envelope namespace is `namespace`.
    init?(envelopeNamespace namespace: String?) {
        guard let version = Self.allCases.first(where: { $0.envelopeNamespace == namespace }) else { return nil }
        self = version
    }

    func name(_ local: String) -> XName { XName(local, namespace: envelopeNamespace) }
}
