import Logging
import NIOCore

/// The transport side of ``WebSocketOutbound``: implemented by the socket
/// transport and by a carried session's endpoint.
public protocol WebSocketOutboundWriter: Sendable {
    /// Sends a message; suspends while the connection cannot take more (backpressure).
    func write(_ message: WebSocketMessage) async throws
    /// Sends a ping with `payload` (at most 125 bytes).
    func ping(_ payload: ByteBuffer) async throws
    /// Starts the closing handshake.
    func close(code: WebSocketCloseCode, reason: String) async throws
}
