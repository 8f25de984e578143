/// An XMPP address (RFC 7622): `localpart@domainpart/resourcepart`, the localpart and
/// resourcepart optional.
///
/// Only the structure is checked (each part non-empty where present, at most 1023 bytes, no
/// `@` or `/` where they cannot stand); the parts are compared as given, with the domain
/// lowercased. PRECIS profiles (RFC 7613) are not applied.
public struct JID: Sendable, Hashable, CustomStringConvertible {
    public var localpart: String?
    public var domain: String
    public var resource: String?

    public init(localpart: String? = nil, domain: String, resource: String? = nil) {
        self.localpart = localpart
        self.domain = domain.lowercased()
        self.resource = resource
    }

    /// Parses `text`; `nil` when it is not a JID (RFC 7622 §3.1, structure only).
    public init?(_ text: String) {
        // The resourcepart is everything after the first `/`, and may itself hold `@` and `/`.
        let slash = text.firstIndex(of: "/")
        let bare = slash.map { text[..<$0] } ?? Substring(text)
        let resource = slash.map { String(text[text.index(after: $0)...]) }
        let at = bare.firstIndex(of: "@")
        let localpart = at.map { String(bare[..<$0]) }
        let domain = String(at.map { bare[bare.index(after: $0)...] } ?? bare)
        for part in [localpart, domain, resource].compactMap({ $0 }) where part.isEmpty || part.utf8.count > 1023 { return nil }
        guard !domain.contains("@"), !(localpart?.contains("/") ?? false) else { return nil }
        self.init(localpart: localpart, domain: domain, resource: resource)
    }

    /// The address without its resource.
    public var bare: JID { JID(localpart: localpart, domain: domain) }

    public var isBare: Bool { resource == nil }

    /// The address with `resource`.
    public func with(resource: String) -> JID { JID(localpart: localpart, domain: domain, resource: resource) }

    public var description: String {
        (localpart.map { "\($0)@" } ?? "") + domain + (resource.map { "/\($0)" } ?? "")
    }
}
