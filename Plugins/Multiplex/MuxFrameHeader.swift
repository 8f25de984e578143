import NIOCore
import SwitchboardCore

/// The one byte that heads a logical frame inside a multiplexed message:
/// the first byte of an RFC 6455 frame header (§5.2), nothing else.
///
///     bit  7    6    5    4    3-0
///          FIN  RSV1 RSV2 RSV3 opcode
///
/// A logical frame has no length (the message ends it) and no mask (the
/// physical frame is masked). The bits mean what they mean on a physical
/// connection, for the logical channel: its own fragmentation, its own
/// control frames (a logical close is a close frame inside the channel), and
/// RSV bits claimed by the channel's own extensions, e.g. RSV1 for a
/// channel's permessage-deflate. Checking opcodes and RSV bits is the
/// channel's business, as it is the engine's on a physical connection.
package struct MuxFrameHeader: Hashable, Sendable {
    package var fin: Bool
    package var reservedBits: WireFrame.ReservedBits
    package var opcode: WireOpcode

    package init(fin: Bool = true, reservedBits: WireFrame.ReservedBits = [], opcode: WireOpcode) {
        self.fin = fin
        self.reservedBits = reservedBits
        self.opcode = opcode
    }

    /// The header of `frame`.
    package init(of frame: WireFrame) {
        self.init(fin: frame.fin, reservedBits: frame.reservedBits, opcode: frame.opcode)
    }

    /// The header in its byte.
    package init(byte: UInt8) {
        self.init(fin: byte & 0x80 != 0, reservedBits: .init(rawValue: byte & 0x70), opcode: WireOpcode(rawValue: byte & 0x0F)!)
    }

    /// The byte on the wire.
    package var byte: UInt8 { (fin ? 0x80 : 0) | reservedBits.rawValue | opcode.rawValue }
}
