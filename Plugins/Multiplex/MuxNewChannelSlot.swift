import NIOCore

/// NewChannelSlot (control opcode 4): the server lets the client open `slots`
/// more channels, each starting with `initialQuota` bytes of send quota.
///
///     byte 0     OOO RRRR F    O: opcode 4, R: reserved (must be 0), F: fallback
///     number     slots
///     number     initial send quota
///
/// Only a server sends it; the client may not open a channel without a slot
/// (2007, New Channel Slot Violation). With F set the server asks the client
/// to stop multiplexing and open separate physical connections instead, and
/// both numbers must be 0. A decoder refuses reserved bits and an F block with
/// numbers (2005).
package struct MuxNewChannelSlot: Hashable, Sendable {
    /// How many more channels the client may open; not negative.
    package var slots: Int
    /// The client's send quota on each channel opened in these slots; not negative.
    package var initialQuota: Int
    /// The F bit: do not open more logical channels on this connection.
    package var fallback: Bool

    package init(slots: Int, initialQuota: Int) {
        precondition(slots >= 0 && initialQuota >= 0, "NewChannelSlot numbers are not negative")
        self.slots = slots
        self.initialQuota = initialQuota
        self.fallback = false
    }

    /// The fallback block: F set, no slots, no quota.
    package static let fallback = MuxNewChannelSlot(fallbackWithSlots: 0, initialQuota: 0)

    private init(fallbackWithSlots slots: Int, initialQuota: Int) {
        self.slots = slots
        self.initialQuota = initialQuota
        self.fallback = true
    }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int { 1 + MuxNumber.encodedLength(slots) + MuxNumber.encodedLength(initialQuota) }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(MuxControlOpcode.newChannelSlot.firstByte(low: fallback ? 1 : 0))
        MuxNumber.write(slots, into: &buffer)
        MuxNumber.write(initialQuota, into: &buffer)
    }

    /// Reads the rest of a block whose first byte was `first`.
    static func read(first: UInt8, from buffer: inout ByteBuffer) throws(MuxWireError) -> Self {
        guard first & 0x1E == 0 else { throw MuxWireError(.invalidMuxControlBlock, "NewChannelSlot sets reserved bits") }
        let slots = try MuxNumber.read(from: &buffer, field: "NewChannelSlot slots")
        let quota = try MuxNumber.read(from: &buffer, field: "NewChannelSlot initial send quota")
        guard first & 0x01 != 0 else { return Self(slots: slots, initialQuota: quota) }
        guard slots == 0, quota == 0 else {
            throw MuxWireError(.invalidMuxControlBlock, "fallback NewChannelSlot with \(slots) slots and quota \(quota)")
        }
        return .fallback
    }
}
