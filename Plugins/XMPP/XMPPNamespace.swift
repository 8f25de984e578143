/// The namespaces of RFC 6120 and RFC 7395 this module reads and writes.
enum XMPPNamespace {
    /// RFC 7395 §3.3: `<open/>` and `<close/>`.
    static let framing = "urn:ietf:params:xml:ns:xmpp-framing"
    /// `features` and `error` (RFC 6120 §4.3.2, §4.9).
    static let streams = "http://etherx.jabber.org/streams"
    /// The defined conditions of stream errors (RFC 6120 §4.9.3).
    static let streamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
    /// Stanzas between a client and its server (RFC 6120 §4.8.3).
    static let client = "jabber:client"
    static let sasl = "urn:ietf:params:xml:ns:xmpp-sasl"
    static let bind = "urn:ietf:params:xml:ns:xmpp-bind"
    /// RFC 3921's session establishment, offered as optional for clients that still ask for it.
    static let session = "urn:ietf:params:xml:ns:xmpp-session"
    /// The defined conditions of stanza errors (RFC 6120 §8.3.3).
    static let stanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas"
}
