import NIOCore
import SwitchboardCore

/// A subprotocol written outside the library, as a user would: `reverse.v1`
/// answers every text message with its characters in reverse order, and
/// refuses binary messages with 1003 (unsupported data, RFC 6455 §7.4.1).
///
/// It sees only the core's handler API: inbound messages, outbound sends and
/// the connection's context. It does not know the transport, so the same code
/// would serve a TLS connection or a multiplexed channel.
public struct ReverseProtocol: WebSocketHandler {
    public static let token = "reverse.v1"

    /// Configuration of the handler: something it adds to each reply.
    public var suffix: String

    public init(suffix: String = "") { self.suffix = suffix }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        for try await message in inbound {
            guard let text = message.text else {
                try await outbound.close(.unsupportedData, reason: "\(Self.token) speaks text only")
                return
            }
            try await outbound.send(text: String(text.reversed()) + suffix)
        }
    }
}

extension SubprotocolRegistry {
    /// Registers `reverse.v1`: how a user adds a subprotocol without touching the core.
    public mutating func registerReverse(_ handler: ReverseProtocol = ReverseProtocol()) {
        register(ReverseProtocol.token, handler)
    }
}
