import NIOCore
import NIOSSL

/// The names a server certificate is issued for, and whether they cover the host a client
/// asked for (RFC 6125 §6).
///
/// Checked by the client itself only where SwiftNIO SSL cannot: through a proxy, where the
/// socket's peer is the proxy and SwiftNIO SSL would compare the certificate's IP entries
/// with the proxy's address. The rules are the strict ones browsers apply: a host name
/// matches a DNS entry exactly, ignoring ASCII case and one trailing dot, or a wildcard that
/// is the whole left-most label of an entry of at least three labels (`*.example.com` covers
/// `a.example.com`, not `example.com` or `a.b.example.com`); an IP literal matches an IP
/// entry with the same bytes; the subject's common name is never used.
struct CertificateIdentity: Sendable, Equatable {
    var dnsNames: [String]
    /// Each 4 (IPv4) or 16 (IPv6) bytes.
    var ipAddresses: [[UInt8]]

    init(dnsNames: [String] = [], ipAddresses: [[UInt8]] = []) {
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }

    /// The subject alternative names of `certificate`.
    init(_ certificate: NIOSSLCertificate) {
        self.init()
        // `_subjectAlternativeNames` is public but underscored in swift-nio-ssl 2.x: the one way
        // it offers to read the names. Only DNS and IP entries matter here.
        for name in certificate._subjectAlternativeNames() {
            let bytes = Array(name.contents)
            switch name.nameType {
            case .dnsName: dnsNames.append(String(decoding: bytes, as: UTF8.self))
            case .ipAddress: ipAddresses.append(bytes)
            default: break
            }
        }
    }

    /// Whether these names cover `host`, a URL's host (an IPv6 literal without brackets).
    func covers(host: String) -> Bool {
        if let address = Self.canonicalAddress(host) {
            return ipAddresses.contains { Self.canonicalAddress(packed: $0) == address }
        }
        let wanted = Self.normalized(host)
        guard !wanted.isEmpty else { return false }
        return dnsNames.contains { Self.matches(Self.normalized($0), wanted) }
    }

    private static func matches(_ pattern: String, _ host: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*.") else { return false }
        let suffix = pattern.dropFirst(2)
        // At least two labels after the wildcard, none of them empty or wild.
        let labels = suffix.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.contains("*") }) else { return false }
        guard let dot = host.firstIndex(of: "."), dot != host.startIndex else { return false }
        return host[host.index(after: dot)...] == suffix
    }

    /// Lower-cased (ASCII only: a certificate carries IDNs as A-labels), without one trailing dot.
    private static func normalized(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// An IP literal in the one spelling `inet_ntop` gives it (`::1` for `0:0::1`); `nil` for a host name.
    private static func canonicalAddress(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0))?.ipAddress
    }

    /// A certificate's IP entry (4 or 16 bytes) in the same spelling; `nil` if malformed.
    private static func canonicalAddress(packed bytes: [UInt8]) -> String? {
        (try? SocketAddress(packedIPAddress: ByteBuffer(bytes: bytes), port: 0))?.ipAddress
    }
}
