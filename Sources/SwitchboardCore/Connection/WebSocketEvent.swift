import NIOCore

/// What the engine found in the bytes it was given.
public enum WebSocketEvent: Sendable {
    /// A complete, validated message for the application.
    case message(WebSocketMessage)
    /// The peer pinged; the pong is already queued (§5.5.2).
    case ping(ByteBuffer)
    /// The peer answered a ping, or sent an unsolicited pong (§5.5.3).
    case pong(ByteBuffer)
    /// The peer's close frame arrived (§5.5.1). If we had sent ours, the close
    /// handshake is over (``WebSocketEngine/CloseState/closed``): a server now
    /// closes the TCP connection, a client waits for the server to (§7.1.1).
    /// Otherwise the engine is ``WebSocketEngine/CloseState/closeReceived``:
    /// the application may still answer what it received, and the transport
    /// sends the answering close with ``WebSocketEngine/close(code:reason:)``.
    case closed(WebSocketCloseFrame)
    /// The peer broke the protocol (_Fail the WebSocket Connection_, §7.1.7).
    /// The engine reads nothing more. The transport decides when to send the
    /// close frame: call ``WebSocketEngine/close(code:reason:)`` with the
    /// error's code (after the application has answered the messages that
    /// preceded the fault, if it likes), flush, and close the TCP connection
    /// without waiting for an answer.
    case failed(WebSocketProtocolError)
}
