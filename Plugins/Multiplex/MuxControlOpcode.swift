/// The 3-bit opcode at the top of a control block's first byte.
///
/// 5, 6 and 7 are undefined; a block using one fails the physical connection
/// with 2004 (Unknown Mux Opcode).
package enum MuxControlOpcode: UInt8, Sendable, Hashable, CaseIterable {
    case addChannelRequest = 0
    case addChannelResponse = 1
    case flowControl = 2
    case dropChannel = 3
    case newChannelSlot = 4

    /// The first byte of a block with this opcode and the given low five bits.
    func firstByte(low bits: UInt8) -> UInt8 { rawValue << 5 | (bits & 0x1F) }
}
