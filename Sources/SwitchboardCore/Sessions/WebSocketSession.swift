/// What a handler runs on: one WebSocket conversation, on its own socket or carried
/// with others over one (``WebSocketSessionExtension``).
public struct WebSocketSession: Sendable {
    /// The messages the peer sends; the sequence ends when the session closes.
    public var inbound: WebSocketInbound
    public var outbound: WebSocketOutbound
    /// The session's request, subprotocol and extensions.
    public var context: WebSocketContext

    public init(inbound: WebSocketInbound, outbound: WebSocketOutbound, context: WebSocketContext) {
        self.inbound = inbound
        self.outbound = outbound
        self.context = context
    }
}
