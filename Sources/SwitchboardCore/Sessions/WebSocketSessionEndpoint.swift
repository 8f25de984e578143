/// One session's ends, made by ``WebSocketSessionHost/makeEndpoint(context:delegate:)``.
///
/// The handler's side is ``session``. The carrier feeds the other side, on the
/// connection's event loop only.
public protocol WebSocketSessionEndpoint: AnyObject {
    /// What a handler gets: the session's inbound messages, its outbound writer, its context.
    var session: WebSocketSession { get }
    /// Hands a message to the handler's inbound sequence. Returns `false` once enough
    /// are buffered: take no more from the peer (grant no credit, read nothing) until
    /// the delegate's ``WebSocketSessionDelegate/readMore()``.
    func deliver(_ message: WebSocketMessage) -> Bool
    /// Ends the inbound sequence: normally (the peer closed the session), or with
    /// an error (`failed`: dropped, broken) that the handler's loop throws.
    func endInbound(failed: Bool)
    /// The session is gone: its inbound sequence ends (with an error if it has not
    /// ended yet), and what its handler still sends fails.
    func close()
}
