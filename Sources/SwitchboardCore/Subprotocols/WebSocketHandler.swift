import Logging
import NIOCore

/// Serves one WebSocket connection: the code behind a subprotocol.
///
/// The same handler runs on a TCP connection, a TLS one or a session an
/// extension carries; nothing in its arguments tells them apart. When `handle` returns,
/// the connection is closed with 1000 if it is still open; when it throws,
/// with 1011.
public protocol WebSocketHandler: Sendable {
    func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws
}
