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
    /// `false`: PLAIN sends the password itself, so it is offered only over `wss://` and to
    /// loopback peers. Set it behind a TLS-terminating proxy, whose plain connection to this
    /// server stands for the client's `wss://`.
    public var allowsPlainOverInsecureTransport: Bool

    /// Failed SASL attempts one connection may make; the next failure ends the stream with
    /// `policy-violation`. Default 3, within RFC 6120 §6.4.5's "at least 2 and no more than 5":
    /// room for a typo, no room to guess passwords on one connection.
    public var maxAuthenticationAttempts: Int

    /// How long a connection may take from its WebSocket handshake to a bound resource; past it,
    /// a `connection-timeout` stream error. Default 30 s: a login is a few round trips, and a
    /// stream that never logs in would otherwise hold its socket and memory for ever.
    public var loginTimeout: Duration

    public init(
        domain: String = "localhost", maxStanzaSize: Int = 256 * 1024, maxNestingDepth: Int = 32, maxStanzasPerSecond: Int = 50,
        maxConnectionsPerAccount: Int = 10, maxQueuedBytes: Int = 1 << 20, allowsPlainOverInsecureTransport: Bool = false,
        maxAuthenticationAttempts: Int = 3, loginTimeout: Duration = .seconds(30)
    ) {
        precondition(
            maxStanzaSize > 0 && maxNestingDepth > 0 && maxStanzasPerSecond > 0 && maxConnectionsPerAccount > 0 && maxQueuedBytes > 0
                && maxAuthenticationAttempts > 0 && loginTimeout > .zero,
            "XMPPConfiguration limits must be positive")
        self.maxAuthenticationAttempts = maxAuthenticationAttempts
        self.loginTimeout = loginTimeout
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
