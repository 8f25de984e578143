import Logging
import NIOCore

/// Sends messages to the peer.
public struct WebSocketOutbound: Sendable {
    private let writer: any WebSocketOutboundWriter

    public init(_ writer: any WebSocketOutboundWriter) { self.writer = writer }

    /// Sends a message. Suspends while the peer is not reading fast enough.
    public func send(_ message: WebSocketMessage) async throws { try await writer.write(message) }
    /// Sends a text message.
    public func send(text: String) async throws { try await writer.write(.text(text)) }
    /// Sends a binary message.
    public func send(binary: ByteBuffer) async throws { try await writer.write(.binary(binary)) }
    /// Sends a ping; the pong arrives as the peer's answer and is not surfaced as a message.
    public func ping(_ payload: ByteBuffer = ByteBuffer()) async throws { try await writer.ping(payload) }
    /// Starts the closing handshake; inbound iteration ends when the peer answers.
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") async throws {
        try await writer.close(code: code, reason: reason)
    }
}
