import NIOCore

/// AddChannelRequest (control opcode 0): the client asks to open a logical
/// channel, carrying the channel's opening handshake request.
///
///     byte 0     OOO RRR EE    O: opcode 0, R: reserved (must be 0), E: encoding
///     1-4 bytes  channel ID    the channel to open, never 0
///     number     handshake size
///     bytes      handshake     HTTP request head, identity- or delta-encoded
///
/// Only a client sends it. A decoder refuses reserved bits (2005), encodings
/// 2 and 3 (2010) and channel 0 (2006: the control channel always exists);
/// whether the channel is free and a slot is left is for the session to check.
package struct MuxAddChannelRequest: Hashable, Sendable {
    /// The channel to open.
    package var channel: MuxChannelID
    /// How ``handshake`` is written.
    package var encoding: MuxHandshakeEncoding
    /// The opening handshake of the logical channel, without `Upgrade`,
    /// `Sec-WebSocket-Key` and `Sec-WebSocket-Version`, which the physical
    /// connection already settled.
    package var handshake: ByteBuffer

    package init(channel: MuxChannelID, encoding: MuxHandshakeEncoding = .identity, handshake: ByteBuffer) {
        self.channel = channel
        self.encoding = encoding
        self.handshake = handshake
    }

    /// A request whose handshake is the UTF-8 of `handshake`.
    package init(channel: MuxChannelID, encoding: MuxHandshakeEncoding = .identity, handshake: String) {
        self.init(channel: channel, encoding: encoding, handshake: ByteBuffer(string: handshake))
    }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int {
        1 + channel.encodedLength + MuxNumber.encodedLength(handshake.readableBytes) + handshake.readableBytes
    }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(MuxControlOpcode.addChannelRequest.firstByte(low: encoding.rawValue))
        channel.write(into: &buffer)
        MuxNumber.write(handshake.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(handshake)
    }

    /// Reads the rest of a block whose first byte was `first`.
    static func read(first: UInt8, from buffer: inout ByteBuffer) throws(MuxWireError) -> Self {
        guard first & 0x1C == 0 else { throw MuxWireError(.invalidMuxControlBlock, "AddChannelRequest sets reserved bits") }
        guard let encoding = MuxHandshakeEncoding(rawValue: first & 0x03) else {
            throw MuxWireError(.unknownRequestEncoding, "AddChannelRequest with handshake encoding \(first & 0x03)")
        }
        let channel = try MuxChannelID.read(from: &buffer, failing: .invalidMuxControlBlock)
        guard !channel.isControl else { throw MuxWireError(.channelAlreadyExists, "AddChannelRequest for the control channel") }
        let handshake = try MuxNumber.readSized(from: &buffer, field: "AddChannelRequest handshake")
        return Self(channel: channel, encoding: encoding, handshake: handshake)
    }
}
