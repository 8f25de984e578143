import NIOCore

/// AddChannelResponse (control opcode 1): the server's answer to an
/// AddChannelRequest, carrying the channel's handshake response.
///
///     byte 0     OOO F RR EE   O: opcode 1, F: rejected, R: reserved (must be 0), E: encoding
///     1-4 bytes  channel ID    the channel the request named, never 0
///     number     handshake size
///     bytes      handshake     HTTP response head, identity- or delta-encoded
///
/// Only a server sends it. An accepted channel's handshake is a 101 status
/// line with `Connection: Upgrade` and, when chosen, `Sec-WebSocket-Protocol`
/// and `Sec-WebSocket-Extensions` (no `Upgrade`, no `Sec-WebSocket-Accept`).
/// A rejected one (F set) holds a failure status, e.g. `HTTP/1.1 400 Bad Request`.
/// The implicit channel 1 never gets a response. A decoder refuses reserved
/// bits (2005), encodings 2 and 3 (2012) and channel 0 (2005).
package struct MuxAddChannelResponse: Hashable, Sendable {
    /// The channel the request named.
    package var channel: MuxChannelID
    /// Whether the server refused the channel (the F bit).
    package var rejected: Bool
    /// How ``handshake`` is written.
    package var encoding: MuxHandshakeEncoding
    /// The handshake response of the logical channel.
    package var handshake: ByteBuffer

    package init(channel: MuxChannelID, rejected: Bool = false, encoding: MuxHandshakeEncoding = .identity, handshake: ByteBuffer) {
        self.channel = channel
        self.rejected = rejected
        self.encoding = encoding
        self.handshake = handshake
    }

    /// A response whose handshake is the UTF-8 of `handshake`.
    package init(channel: MuxChannelID, rejected: Bool = false, encoding: MuxHandshakeEncoding = .identity, handshake: String) {
        self.init(channel: channel, rejected: rejected, encoding: encoding, handshake: ByteBuffer(string: handshake))
    }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int {
        1 + channel.encodedLength + MuxNumber.encodedLength(handshake.readableBytes) + handshake.readableBytes
    }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(MuxControlOpcode.addChannelResponse.firstByte(low: (rejected ? 0x10 : 0) | encoding.rawValue))
        channel.write(into: &buffer)
        MuxNumber.write(handshake.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(handshake)
    }

    /// Reads the rest of a block whose first byte was `first`.
    static func read(first: UInt8, from buffer: inout ByteBuffer) throws(MuxWireError) -> Self {
        guard first & 0x0C == 0 else { throw MuxWireError(.invalidMuxControlBlock, "AddChannelResponse sets reserved bits") }
        guard let encoding = MuxHandshakeEncoding(rawValue: first & 0x03) else {
            throw MuxWireError(.unknownResponseEncoding, "AddChannelResponse with handshake encoding \(first & 0x03)")
        }
        let channel = try MuxChannelID.read(from: &buffer, failing: .invalidMuxControlBlock)
        guard !channel.isControl else { throw MuxWireError(.invalidMuxControlBlock, "AddChannelResponse for the control channel") }
        let handshake = try MuxNumber.readSized(from: &buffer, field: "AddChannelResponse handshake")
        return Self(channel: channel, rejected: first & 0x10 != 0, encoding: encoding, handshake: handshake)
    }
}
