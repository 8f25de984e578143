import NIOCore

/// One WebSocket frame (RFC 6455 §5.2), payload already unmasked.
///
/// The payload is a slice of the buffer it was read from: parsing does not copy.
public struct WireFrame: Sendable, Equatable {
    /// The three reserved bits of the first header byte, owned by extensions (§5.2, §9).
    public struct ReservedBits: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x70 }
        /// RSV1, claimed by permessage-deflate (RFC 7692 §6).
        public static let rsv1 = ReservedBits(rawValue: 0x40)
        public static let rsv2 = ReservedBits(rawValue: 0x20)
        public static let rsv3 = ReservedBits(rawValue: 0x10)
    }

    /// Whether this is the last frame of its message (§5.4).
    public var fin: Bool
    /// The RSV1-3 bits; meaningful only to the extension that claims them.
    public var reservedBits: ReservedBits
    public var opcode: WireOpcode
    /// The application data, unmasked; a slice of the buffer it was parsed from.
    public var payload: ByteBuffer

    public init(fin: Bool = true, reservedBits: ReservedBits = [], opcode: WireOpcode, payload: ByteBuffer) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.payload = payload
    }
}
