/// The settings and limits of an XMPP server.
public struct XMPPConfiguration: Sendable {
    /// The domain the server is (the `to` of every `<open/>`, the domainpart of every account).
    public var domain: String

    /// The largest stanza accepted, in bytes; a larger one is a `policy-violation` stream error.
    /// Default 256 KiB, Prosody's `c2s_stanza_size_limit`: far above RFC 6120 §13.12's floor of
    /// 10,000 bytes, and it bounds what one message costs to parse.
    public var maxStanzaSize: Int

    /// How deeply a stanza's elements may nest. Default 32: real stanzas nest a handful of levels.
    public var maxNestingDepth: Int

    /// Stanzas per second one connection may send, on average; a burst of twice as many is
    /// allowed. Past it, a `policy-violation` stream error. Default 50: well above a person
    /// typing or a bot answering, well below a flood.
    public var maxStanzasPerSecond: Int

    /// Bytes of stanzas routed to one connection and not yet written to it; past it, stanzas to
    /// that connection are dropped (and logged once). Default 1 MiB: room for any burst a reading
    /// client meets, while a client that never reads cannot make others' stanzas pile up in the server.
    public var maxQueuedBytes: Int

    /// Connections (resources) per account at once. Default 10.
    public var maxConnectionsPerAccount: Int

    /// Whether SASL PLAIN is offered on plain `ws://` to peers that are not on loopback. Default
    /// `false`: PLAIN sends the password itself, so it is offered only over `wss://` (which a
    /// TLS-terminating proxy in front may also stand for) and to loopback peers.
    public var allowsPlainOverInsecureTransport: Bool

    public init(
        domain: String = "localhost", maxStanzaSize: Int = 256 * 1024, maxNestingDepth: Int = 32, maxStanzasPerSecond: Int = 50,
        maxConnectionsPerAccount: Int = 10, maxQueuedBytes: Int = 1 << 20, allowsPlainOverInsecureTransport: Bool = false
    ) {
        precondition(
            maxStanzaSize > 0 && maxNestingDepth > 0 && maxStanzasPerSecond > 0 && maxConnectionsPerAccount > 0 && maxQueuedBytes > 0,
            "XMPPConfiguration limits must be positive")
        self.domain = domain.lowercased()
        self.maxStanzaSize = maxStanzaSize
        self.maxNestingDepth = maxNestingDepth
        self.maxStanzasPerSecond = maxStanzasPerSecond
        self.maxConnectionsPerAccount = maxConnectionsPerAccount
        self.maxQueuedBytes = maxQueuedBytes
        self.allowsPlainOverInsecureTransport = allowsPlainOverInsecureTransport
    }

    /// RFC 6120 §11.1: no comments, no DTD, no PIs, no entities but the five.
    var xmlLimits: XMLLimits {
        XMLLimits(
            maxDepth: maxNestingDepth, maxAttributesPerElement: 32, maxNamespaceDeclarations: 32, maxElements: maxStanzaSize / 4,
            allowsComments: false)
    }
}
