import Logging
import NIOCore

/// A logical channel's number on a multiplexed connection.
///
/// 1 is the implicit channel, which serves the physical handshake's own
/// request; a client opens the others.
public typealias LogicalChannelID = UInt32

/// A negotiated extension that carries logical WebSocket connections over the
/// physical one (draft-ietf-hybi-websocket-multiplexing).
///
/// Once such an extension is in a connection's pipeline, the transport hands
/// every physical data message to the session it makes, instead of to a
/// handler, and runs one handler per logical channel the session opens. The
/// core and the transport know no multiplexing scheme by name: this protocol
/// is the whole contract.
public protocol WebSocketMultiplexingExtension: WebSocketExtension {
    /// The extensions of the implicit channel, which the extension adopted in the handshake
    /// (``ExtensionAgreement/adoptsPreceding``).
    var channelExtensions: [any WebSocketExtension] { get }
    /// Makes the sans-I/O session of one physical connection.
    func makeSession(_ setup: MultiplexSessionSetup) -> any WebSocketMultiplexSession
}

/// What a multiplexing session learns of its physical connection.
public struct MultiplexSessionSetup {
    public var role: WebSocketRole
    /// The physical opening handshake: received (server) or sent (client). It is
    /// the implicit channel's request and the base of delta-encoded ones.
    public var request: HandshakeRequest
    /// Size limits for what the peer sends on each logical channel.
    public var limits: WebSocketLimits
    /// Server: evaluates a logical channel's opening handshake with the same
    /// routes, subprotocol registries, origin policy and extensions as a physical one.
    public var acceptChannel: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)?
    public var allocator: ByteBufferAllocator
    public var logger: Logger

    public init(role: WebSocketRole, request: HandshakeRequest, limits: WebSocketLimits,
                acceptChannel: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)? = nil,
                allocator: ByteBufferAllocator = ByteBufferAllocator(), logger: Logger) {
        self.role = role
        self.request = request
        self.limits = limits
        self.acceptChannel = acceptChannel
        self.allocator = allocator
        self.logger = logger
    }
}

/// A logical channel both ends agreed on.
public struct OpenedLogicalChannel: Sendable {
    public var id: LogicalChannelID
    /// The channel's own handshake request.
    public var request: HandshakeRequest
    public var subprotocol: String?
    /// The channel's extensions, in pipeline order.
    public var extensions: [String]

    public init(id: LogicalChannelID, request: HandshakeRequest, subprotocol: String?, extensions: [String]) {
        self.id = id
        self.request = request
        self.subprotocol = subprotocol
        self.extensions = extensions
    }
}

/// The protocol of every logical channel of one physical connection, with no I/O.
///
/// The transport calls it on the connection's event loop, one call at a time,
/// and it answers through its ``WebSocketMultiplexHost``. It keeps each
/// channel's engine, its flow control and the fair sharing of the physical
/// link; it never blocks and never reads a clock (the transport times close
/// handshakes and calls ``closeTimedOut(_:)``).
public protocol WebSocketMultiplexSession: AnyObject {
    /// Starts the session: the implicit channel is open, and a server sends its first control blocks.
    func start(host: any WebSocketMultiplexHost)
    /// A data message the physical connection received.
    func receive(_ message: WebSocketMessage)
    /// A channel's application sends a message; `completion` runs once the
    /// message is on its way to the physical connection (backpressure), or fails
    /// with ``WebSocketError/connectionClosed``.
    func send(_ message: WebSocketMessage, on channel: LogicalChannelID, completion: @escaping (Result<Void, WebSocketError>) -> Void)
    /// A ping on a channel.
    func ping(_ payload: ByteBuffer, on channel: LogicalChannelID) throws(WebSocketError)
    /// The application starts a channel's closing handshake.
    func close(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String)
    /// The channel's handler has returned: close it, or answer the peer's close.
    /// The transport then calls ``closeTimedOut(_:)`` after its close timeout.
    func finish(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String)
    /// The close timeout of a finished channel has passed; drops it if still open.
    func closeTimedOut(_ channel: LogicalChannelID)
    /// The application has read what it was given on `channel` and takes more.
    func readMore(_ channel: LogicalChannelID)
    /// The physical connection became writable (or not).
    func physicalWritabilityChanged()
    /// Client: asks the server for a new channel; the session adds the offers of the
    /// extensions its channels use to `request`.
    func openChannel(request: HandshakeRequest, subprotocols: [String],
                     completion: @escaping (Result<OpenedLogicalChannel, WebSocketError>) -> Void)
    /// The physical connection is closing or gone: every channel ends.
    func physicalClosed()
}

/// The transport, as a multiplexing session sees it. Called on the event loop only.
public protocol WebSocketMultiplexHost: AnyObject {
    /// Queues a data message on the physical connection.
    func sendPhysical(_ message: WebSocketMessage)
    /// Whether the physical connection takes more bytes now; when it does not,
    /// the session waits for ``WebSocketMultiplexSession/physicalWritabilityChanged()``.
    var isPhysicalWritable: Bool { get }
    /// Server: the peer opened a channel; run `handler` on it.
    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler)
    /// A message for a channel's application. Returns `false` when the
    /// application has enough buffered: the session then grants the peer no
    /// more quota until ``WebSocketMultiplexSession/readMore(_:)``.
    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool
    /// The channel's inbound messages have ended: the peer closed it (with this
    /// frame), dropped it, or broke its protocol (`failed`).
    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool)
    /// The channel is gone: what its application still sends fails.
    func channelClosed(_ channel: LogicalChannelID)
    /// The session found the physical connection broken: close it with `code`
    /// after what is queued, without waiting for an answer.
    func failPhysical(code: WebSocketCloseCode, reason: String)
}

/// Where a client connection that negotiated multiplexing keeps its ``WebSocketChannelOpener``
/// in ``WebSocketContext/values``.
public enum WebSocketChannelOpenerKey: WebSocketContextKey {
    public typealias Value = any WebSocketChannelOpener
}

/// Opens logical channels on a connection whose handshake negotiated multiplexing (a client's).
public protocol WebSocketChannelOpener: Sendable {
    /// Opens a channel to `path`; its handshake offers `subprotocols` and the
    /// client's channel extensions, and is checked as a physical one is.
    func openChannel(path: String, subprotocols: [String], headers: HandshakeHeaders) async throws -> WebSocketLogicalChannel
}

/// A logical WebSocket connection on a multiplexed physical one, as its user sees it.
public struct WebSocketLogicalChannel: Sendable {
    /// The messages the peer sends on this channel; it ends when the channel closes.
    public var inbound: WebSocketInbound
    public var outbound: WebSocketOutbound
    /// The channel's request, subprotocol and extensions.
    public var context: WebSocketContext

    public init(inbound: WebSocketInbound, outbound: WebSocketOutbound, context: WebSocketContext) {
        self.inbound = inbound
        self.outbound = outbound
        self.context = context
    }
}
