/// A negotiated extension that carries sessions: several WebSocket conversations,
/// each served by its own handler, over one connection.
///
/// Once such an extension is in a connection's pipeline, the transport hands every
/// data message the connection receives to the ``WebSocketSessionCarrier`` it makes,
/// not to a handler, and runs handlers on the endpoints the carrier asks for. The
/// core and the transport know no carrying scheme by name; this protocol, the
/// carrier, the host, the endpoint and its delegate are the whole contract.
/// `Tests/CustomSessionExtensionExample` plugs one in from outside the library.
public protocol WebSocketSessionExtension: WebSocketExtension {
    /// Makes the carrier of one connection. Called on the connection's event loop,
    /// once the handshake is done; the carrier keeps `host` for the connection's life.
    func makeSessionCarrier(host: any WebSocketSessionHost) -> any WebSocketSessionCarrier
}
