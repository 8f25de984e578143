/// The four-bit frame opcode of RFC 6455 §5.2.
///
/// Opcodes 0x3-0x7 and 0xB-0xF are reserved; a frame carrying one is refused
/// with close code 1002 (§5.2, "If an unknown opcode is received, the receiving
/// endpoint MUST _Fail the WebSocket Connection_").
public struct WireOpcode: Hashable, Sendable, CustomStringConvertible {
    /// The four-bit value on the wire.
    public let rawValue: UInt8

    /// Creates an opcode from its wire value, or `nil` when it does not fit in four bits.
    public init?(rawValue: UInt8) {
        guard rawValue < 0x10 else { return nil }
        self.rawValue = rawValue
    }

    @usableFromInline init(uncheckedRawValue: UInt8) { self.rawValue = uncheckedRawValue }

    public static let continuation = WireOpcode(uncheckedRawValue: 0x0)
    public static let text = WireOpcode(uncheckedRawValue: 0x1)
    public static let binary = WireOpcode(uncheckedRawValue: 0x2)
    public static let close = WireOpcode(uncheckedRawValue: 0x8)
    public static let ping = WireOpcode(uncheckedRawValue: 0x9)
    public static let pong = WireOpcode(uncheckedRawValue: 0xA)

    /// Control frames have the high bit of the opcode set (§5.5).
    @inlinable public var isControl: Bool { rawValue & 0x8 != 0 }

    /// Whether RFC 6455 defines this opcode (§5.2); extensions may define others.
    public var isDefined: Bool {
        switch rawValue {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA: return true
        default: return false
        }
    }

    public var description: String {
        switch rawValue {
        case 0x0: return "continuation"
        case 0x1: return "text"
        case 0x2: return "binary"
        case 0x8: return "close"
        case 0x9: return "ping"
        case 0xA: return "pong"
        default: return "reserved(0x\(String(rawValue, radix: 16)))"
        }
    }
}
