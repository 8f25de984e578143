import NIOCore
import SwitchboardCore

/// DropChannel (control opcode 3): closes a logical channel at once, or, on
/// channel 0, fails the whole physical connection.
///
///     byte 0     OOO RRRRR     O: opcode 3, R: reserved (must be 0)
///     1-4 bytes  channel ID    0 fails the physical connection
///     number     reason size   0, or 2 and more
///     2 bytes    code          big-endian (only when the size is not 0)
///     bytes      message       UTF-8 (the rest of the reason)
///
/// Either side sends it. A decoder refuses reserved bits, a one-byte reason
/// and a message that is not UTF-8 (2005).
package struct MuxDropChannel: Hashable, Sendable {
    /// Why a channel is dropped.
    package struct Reason: Hashable, Sendable {
        package var code: MuxDropCode
        /// Text for people; may be empty.
        package var message: String

        package init(_ code: MuxDropCode, message: String = "") {
            self.code = code
            self.message = message
        }
    }

    /// The channel to drop; 0 for the physical connection.
    package var channel: MuxChannelID
    /// The reason, or `nil` for an empty one.
    package var reason: Reason?

    package init(channel: MuxChannelID, reason: Reason? = nil) {
        self.channel = channel
        self.reason = reason
    }

    /// A DropChannel on channel 0 that fails the physical connection for `error`.
    package init(failing error: MuxWireError) {
        self.init(channel: .control, reason: Reason(error.code, message: error.reason))
    }

    private var reasonLength: Int { reason.map { 2 + $0.message.utf8.count } ?? 0 }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int { 1 + channel.encodedLength + MuxNumber.encodedLength(reasonLength) + reasonLength }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger(MuxControlOpcode.dropChannel.firstByte(low: 0))
        channel.write(into: &buffer)
        MuxNumber.write(reasonLength, into: &buffer)
        if let reason {
            buffer.writeInteger(reason.code.rawValue)
            buffer.writeString(reason.message)
        }
    }

    /// Reads the rest of a block whose first byte was `first`.
    static func read(first: UInt8, from buffer: inout ByteBuffer) throws(MuxWireError) -> Self {
        guard first & 0x1F == 0 else { throw MuxWireError(.invalidMuxControlBlock, "DropChannel sets reserved bits") }
        let channel = try MuxChannelID.read(from: &buffer, failing: .invalidMuxControlBlock)
        var bytes = try MuxNumber.readSized(from: &buffer, field: "DropChannel reason")
        switch bytes.readableBytes {
        case 0:
            return Self(channel: channel)
        case 1:
            throw MuxWireError(.invalidMuxControlBlock, "DropChannel reason of one byte")
        default:
            let code = MuxDropCode(bytes.readInteger(as: UInt16.self)!)
            guard UTF8Validator.isValid(bytes.readableBytesView) else {
                throw MuxWireError(.invalidMuxControlBlock, "DropChannel message is not UTF-8")
            }
            return Self(channel: channel, reason: Reason(code, message: String(buffer: bytes)))
        }
    }
}
