/// What a server agreed to in one handshake.
public struct ServerExtensionNegotiation {
    /// The connection's extensions, in response order (those an extension adopted are its own, not here).
    public var extensions: [any WebSocketExtension]
    /// The `Sec-WebSocket-Extensions` response value; `nil` for none.
    public var header: String?
}
