import NIOCore

/// The transport, as a ``WebSocketSessionCarrier`` sees it: the connection, its
/// clock, and a factory of endpoints with the same backpressure a socket's handler
/// gets. Use it on the connection's event loop only.
public protocol WebSocketSessionHost: AnyObject {
    /// The connection's own context: its handshake request (received or sent), the
    /// subprotocol and extensions agreed, the role and the connection's logger.
    var context: WebSocketContext { get }
    /// Size limits for what the peer sends, which each session's engine applies too.
    var limits: WebSocketLimits { get }
    /// How long a close handshake may take before the closing side drops it.
    var closeTimeout: TimeAmount { get }
    /// How long an opening handshake may take: a session's, as the connection's.
    var handshakeTimeout: TimeAmount { get }
    /// The connection's event loop: for timers, and for hops from other tasks.
    var eventLoop: any EventLoop { get }
    var allocator: ByteBufferAllocator { get }
    /// Server: evaluates a session's opening handshake with the same routes,
    /// subprotocol registries, origin policy and extensions as a connection's. `nil` on a client.
    var evaluate: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)? { get }

    /// Queues a data message on the connection; it goes out with the next ``flush()``.
    func send(_ message: WebSocketMessage)
    /// Whether the connection takes more bytes now. When it does not, hold what
    /// you would send until ``WebSocketSessionCarrier/writabilityChanged()``.
    var isWritable: Bool { get }
    /// Flushes what was queued. The transport flushes after every call it makes into
    /// the carrier; call this after work of your own (a timer, a hop).
    func flush()
    /// Fails the connection: closes it with `code` after what is queued, without
    /// waiting for an answer. The carrier then gets ``WebSocketSessionCarrier/connectionClosed()``.
    func fail(code: WebSocketCloseCode, reason: String)

    /// Makes a session's endpoint: an inbound sequence and an outbound writer for a
    /// handler, with `context`. What the handler does reaches `delegate`.
    func makeEndpoint(context: WebSocketContext, delegate: any WebSocketSessionDelegate) -> any WebSocketSessionEndpoint
    /// Server: runs `handler` on `endpoint` (one the host made), beside the connection's
    /// other handlers. When it returns, the delegate gets ``WebSocketSessionDelegate/handlerFinished(code:reason:)``.
    func run(_ handler: any WebSocketHandler, on endpoint: any WebSocketSessionEndpoint)
}
