import Testing

@testable import Switchboard

/// RFC 6125 §6.4 as browsers apply it: what a certificate's names cover.
@Suite("CertificateIdentity: which hosts a certificate's names cover")
struct CertificateIdentityTests {
    static let v4Loopback: [UInt8] = [127, 0, 0, 1]
    static let v6Loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]

    @Test(
        "Host names against DNS entries",
        arguments: [
            (["example.com"], "example.com", true),
            (["Example.COM"], "example.com", true),  // ASCII case is ignored
            (["example.com."], "example.com", true),  // one trailing dot on either side
            (["example.com"], "example.com.", true),
            (["example.com"], "www.example.com", false),
            (["*.example.com"], "a.example.com", true),
            (["*.example.com"], "A.Example.com", true),
            (["*.example.com"], "example.com", false),  // the wildcard stands for one label, not none
            (["*.example.com"], "a.b.example.com", false),  // ... and not two
            (["*.example.com"], ".example.com", false),
            (["*.com"], "example.com", false),  // not over a single remaining label
            (["f*.example.com"], "foo.example.com", false),  // only a whole left-most label may be wild
            (["*.*.example.com"], "a.b.example.com", false),
            (["a.*.example.com"], "a.b.example.com", false),
            (["other.example", "example.com"], "example.com", true),
            ([], "example.com", false),
        ] as [([String], String, Bool)])
    func dnsNames(_ names: [String], _ host: String, _ covered: Bool) {
        #expect(CertificateIdentity(dnsNames: names).covers(host: host) == covered)
    }

    @Test("IP literals against IP entries, by address, never by a DNS entry spelled like one")
    func ipAddresses() {
        let both = CertificateIdentity(ipAddresses: [Self.v4Loopback, Self.v6Loopback])
        #expect(both.covers(host: "127.0.0.1"))
        #expect(both.covers(host: "::1"))
        #expect(both.covers(host: "0:0:0:0:0:0:0:1"))  // another spelling of ::1
        #expect(!both.covers(host: "127.0.0.2"))
        #expect(!both.covers(host: "::2"))
        #expect(!CertificateIdentity(dnsNames: ["127.0.0.1"]).covers(host: "127.0.0.1"))
        #expect(!CertificateIdentity(ipAddresses: [Self.v4Loopback]).covers(host: "localhost"))
        #expect(!CertificateIdentity(ipAddresses: [[127, 0, 1]]).covers(host: "127.0.0.1"))  // a malformed entry matches nothing
    }
}
