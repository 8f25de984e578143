import NIOCore

/// FlowControl (control opcode 2): the sender of this block lets its peer
/// send `quota` more bytes on a channel.
///
///     byte 0     OOO RRRRR     O: opcode 2, R: reserved (must be 0)
///     1-4 bytes  channel ID    never 0
///     number     quota         bytes added to the peer's send quota, 0 ... 2^63 - 1
///
/// Either side sends it. Replenishing past 2^63 - 1 is the receiver's concern
/// (3006, Send Quota Overflow, fails that channel). A decoder refuses reserved
/// bits and channel 0 (2005).
package struct MuxFlowControl: Hashable, Sendable {
    /// The channel whose send quota grows.
    package var channel: MuxChannelID
    /// The bytes added to the peer's send quota on ``channel``; not negative.
    package var quota: Int

    package init(channel: MuxChannelID, quota: Int) {
        precondition(quota >= 0, "a FlowControl quota is not negative")
        self.channel = channel
        self.quota = quota
    }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int { 1 + channel.encodedLength + MuxNumber.encodedLength(quota) }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(MuxControlOpcode.flowControl.firstByte(low: 0))
        channel.write(into: &buffer)
        MuxNumber.write(quota, into: &buffer)
    }

    /// Reads the rest of a block whose first byte was `first`.
    static func read(first: UInt8, from buffer: inout ByteBuffer) throws(MuxWireError) -> Self {
        guard first & 0x1F == 0 else { throw MuxWireError(.invalidMuxControlBlock, "FlowControl sets reserved bits") }
        let channel = try MuxChannelID.read(from: &buffer, failing: .invalidMuxControlBlock)
        guard !channel.isControl else { throw MuxWireError(.invalidMuxControlBlock, "FlowControl for the control channel") }
        let quota = try MuxNumber.read(from: &buffer, field: "FlowControl quota")
        return Self(channel: channel, quota: quota)
    }
}
