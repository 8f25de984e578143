/// Limits and timeouts of one SOAP connection, the same on both ends.
public struct SOAPConfiguration: Sendable {
    /// The version a client speaks, and the one a server speaks when the client's handshake
    /// names none (`soap-content-type` absent). Default SOAP 1.2, the version [MS-SWSB] specifies.
    public var version: SOAPVersion

    /// The largest envelope parsed, in bytes; a larger one is answered with a Sender fault.
    /// Default 1 MiB, the transport's own default, so that raising the WebSocket limit for
    /// other routes does not raise the XML work per message with it.
    public var maxMessageSize: Int

    /// How deeply elements may nest. Default 32: an envelope's own structure takes three
    /// levels and real payloads a handful more; the parser's memory for open elements is
    /// bounded by it whatever a peer sends (10,000 levels are refused at the 33rd).
    public var maxNestingDepth: Int

    /// The most attributes, namespace declarations included, on one element. Default 32:
    /// generous for SOAP, and it keeps the duplicate-attribute check, which is quadratic
    /// in it, cheap.
    public var maxAttributesPerElement: Int

    /// The most namespace declarations in one envelope. Default 64: an envelope with
    /// WS-Addressing and a few payload namespaces declares under ten.
    public var maxNamespaceDeclarations: Int

    /// The most elements in one envelope. Default 50,000: a 1 MiB envelope of real data (fields
    /// of 20 bytes or more) holds fewer, while one of empty elements would hold 250,000 and cost
    /// about 40 times its size in memory and, on a debug build, seconds of parsing.
    public var maxElements: Int

    /// How many calls from the peer run at once on this connection; as many again wait in
    /// line, and past that the connection stops reading (backpressure). Default 64, as JSON-RPC's.
    public var maxConcurrentCalls: Int

    /// How many tasks ``SOAPPeer/startTask(_:)`` runs at once on this connection. Default 64.
    public var maxBackgroundTasks: Int

    /// How long a call waits for its answer unless told otherwise. Default 30 s.
    public var callTimeout: Duration

    /// Header blocks the application processes itself (through ``SOAPPeer/requestHeaders``),
    /// besides WS-Addressing's, which this module processes: a block marked `mustUnderstand`
    /// that is in neither is answered with a MustUnderstand fault (SOAP 1.2 Part 1 §5.2.3).
    public var understoodHeaders: Set<XName>

    public init(
        version: SOAPVersion = .soap12, maxMessageSize: Int = 1 << 20, maxNestingDepth: Int = 32, maxAttributesPerElement: Int = 32,
        maxNamespaceDeclarations: Int = 64, maxElements: Int = 50_000, maxConcurrentCalls: Int = 64, maxBackgroundTasks: Int = 64,
        callTimeout: Duration = .seconds(30),
        understoodHeaders: Set<XName> = []
    ) {
        precondition(
            maxMessageSize > 0 && maxNestingDepth > 0 && maxAttributesPerElement > 0 && maxNamespaceDeclarations > 0 && maxElements > 0
                && maxConcurrentCalls > 0
                && maxBackgroundTasks > 0, "SOAPConfiguration limits must be positive")
        self.version = version
        self.maxMessageSize = maxMessageSize
        self.maxNestingDepth = maxNestingDepth
        self.maxAttributesPerElement = maxAttributesPerElement
        self.maxNamespaceDeclarations = maxNamespaceDeclarations
        self.maxElements = maxElements
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxBackgroundTasks = maxBackgroundTasks
        self.callTimeout = callTimeout
        self.understoodHeaders = understoodHeaders
    }

    var xmlLimits: XMLLimits {
        XMLLimits(
            maxDepth: maxNestingDepth, maxAttributesPerElement: maxAttributesPerElement, maxNamespaceDeclarations: maxNamespaceDeclarations,
            maxElements: maxElements, allowsComments: true)
    }
}
