import NIOCore

/// One WebSocket frame (RFC 6455 §5.2), payload already unmasked.
///
/// The payload is a slice of the buffer it was read from: parsing does not copy.
public struct WebSocketFrame: Sendable, Equatable {
    /// The three reserved bits of the first header byte, owned by extensions (§5.2, §9).
    public struct ReservedBits: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x70 }
        public static let rsv1 = ReservedBits(rawValue: 0x40)
        public static let rsv2 = ReservedBits(rawValue: 0x20)
        public static let rsv3 = ReservedBits(rawValue: 0x10)
    }

    public var fin: Bool
    public var reservedBits: ReservedBits
    public var opcode: WebSocketOpcode
    public var payload: ByteBuffer

    public init(fin: Bool = true, reservedBits: ReservedBits = [], opcode: WebSocketOpcode, payload: ByteBuffer) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.payload = payload
    }
}
