import NIOCore

/// What a session's handler does, as its carrier hears it. One delegate per
/// endpoint; the host calls it on the connection's event loop and flushes after.
public protocol WebSocketSessionDelegate: AnyObject {
    /// The handler sends a message. Call `completion` once the message is on its way
    /// to the connection (or dropped): until then its bytes count against the
    /// handler's send window, and a handler past it waits (backpressure).
    func send(_ message: WebSocketMessage, completion: @escaping (Result<Void, WebSocketError>) -> Void)
    /// The handler pings the peer.
    func ping(_ payload: ByteBuffer)
    /// The handler starts the session's closing handshake.
    func close(code: WebSocketCloseCode, reason: String)
    /// The handler returned (`code` 1000, or 1011 if it threw): close the session, or
    /// answer the peer's close. Time the close handshake with the host's ``WebSocketSessionHost/closeTimeout``.
    func handlerFinished(code: WebSocketCloseCode, reason: String)
    /// The handler has read what it was given and takes more (after ``WebSocketSessionEndpoint/deliver(_:)`` said `false`).
    func readMore()
}
