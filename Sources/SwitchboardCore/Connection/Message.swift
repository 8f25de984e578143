import NIOCore

/// A complete WebSocket message: text or binary, as the application sees it.
///
/// Text is kept as its UTF-8 bytes (already validated on receipt), so that a
/// message can be forwarded or echoed without a round trip through `String`.
public struct WebSocketMessage: Sendable, Equatable {
    /// Text (UTF-8, opcode 0x1) or binary (opcode 0x2), §5.6.
    public enum Kind: Sendable, Hashable {
        case text
        case binary
    }

    /// Whether the payload is text or binary.
    public var kind: Kind
    /// The payload; for text, valid UTF-8.
    public var data: ByteBuffer

    public init(kind: Kind, data: ByteBuffer) {
        self.kind = kind
        self.data = data
    }

    /// A text message holding `string`.
    public static func text(_ string: String) -> WebSocketMessage {
        WebSocketMessage(kind: .text, data: ByteBuffer(string: string))
    }

    /// A binary message holding `bytes`.
    public static func binary(_ bytes: ByteBuffer) -> WebSocketMessage {
        WebSocketMessage(kind: .binary, data: bytes)
    }

    /// A binary message holding `bytes`.
    public static func binary(_ bytes: some Sequence<UInt8>) -> WebSocketMessage {
        WebSocketMessage(kind: .binary, data: ByteBuffer(bytes: bytes))
    }

    /// The text of a text message; `nil` for a binary one.
    public var text: String? {
        kind == .text ? String(buffer: data) : nil
    }
}
