/// The sessions of one connection, as the transport drives them.
///
/// The transport calls it on the connection's event loop, one call at a time; it
/// answers through its ``WebSocketSessionHost``. Keep the protocol work sans-I/O
/// behind it (a value that reads no clock and writes no socket, which unit tests and
/// fuzzers drive directly): the carrier is the small adapter between that and the host.
public protocol WebSocketSessionCarrier: AnyObject {
    /// Starts carrying sessions, and returns the endpoint the connection's own handler
    /// (the one its handshake chose) runs on. A client's connection ends when that
    /// handler returns; a server's when the peer closes it.
    func start() -> any WebSocketSessionEndpoint
    /// A data message the connection received.
    func receive(_ message: WebSocketMessage)
    /// The connection became writable (or not): see ``WebSocketSessionHost/isWritable``.
    func writabilityChanged()
    /// The connection is closing or gone: every session ends. The host ends the
    /// endpoints it made after this returns.
    func connectionClosed()
}
