import NIOCore
import SwitchboardCore

/// What one binary message on a multiplexed physical connection carries:
/// either control blocks or one frame of one logical channel.
///
///     1-4 bytes  channel ID
///     then, for channel 0:   one or more control blocks, filling the message
///     then, for channel 1+:  one byte of frame header (``MuxFrameHeader``),
///                            then the frame's payload, to the end of the message
///
/// Every logical frame travels as a whole physical message (which the
/// physical connection may itself fragment). Physical control frames (ping,
/// pong, close) stay physical: they are not multiplexed. A physical text
/// message is not a multiplexed message (2001).
package enum MuxMessage: Equatable, Sendable {
    /// Control blocks, on channel 0.
    case control([MuxControlBlock])
    /// One frame of a logical channel (never channel 0).
    case frame(MuxChannelID, WireFrame)

    // MARK: Reading

    /// Reads a physical binary message's payload.
    ///
    /// A logical frame's payload is a slice of `payload`, not a copy.
    /// Throws 2002 when the channel ID is missing or cut short, 2003 when a
    /// logical frame has no header byte, and the control blocks' codes.
    package init(parsing payload: ByteBuffer) throws(MuxWireError) {
        switch try Self.content(of: payload) {
        case .controlBlocks(let blocks): self = .control(try MuxControlBlock.readAll(from: blocks))
        case .frame(let channel, let frame): self = .frame(channel, frame)
        }
    }

    /// Reads a whole physical message: it must be binary (2001 otherwise).
    package init(parsing message: WebSocketMessage) throws(MuxWireError) {
        try self.init(parsing: Self.binaryPayload(of: message))
    }

    /// What a physical message carries, with its control blocks not yet read.
    enum Content {
        /// The control blocks, for ``MuxControlBlock/read(from:)`` one at a time.
        case controlBlocks(ByteBuffer)
        case frame(MuxChannelID, WireFrame)
    }

    /// Reads a physical message's channel ID and, for a logical channel, its frame header.
    ///
    /// A receiver reads the control blocks one at a time: one message can hold millions
    /// of them, and each is handled (and may end the connection) before the next is read.
    static func content(of message: WebSocketMessage) throws(MuxWireError) -> Content {
        try content(of: binaryPayload(of: message))
    }

    private static func content(of payload: ByteBuffer) throws(MuxWireError) -> Content {
        var payload = payload
        let channel = try MuxChannelID.read(from: &payload, failing: .channelIDTruncated)
        if channel.isControl { return .controlBlocks(payload) }
        guard let byte = payload.readInteger(as: UInt8.self) else {
            throw MuxWireError(.encapsulatedFrameTruncated, "message for channel \(channel) has no frame header")
        }
        let header = MuxFrameHeader(byte: byte)
        return .frame(channel, WireFrame(fin: header.fin, reservedBits: header.reservedBits, opcode: header.opcode, payload: payload))
    }

    private static func binaryPayload(of message: WebSocketMessage) throws(MuxWireError) -> ByteBuffer {
        guard message.kind == .binary else {
            throw MuxWireError(.invalidEncapsulatingMessage, "text message on a multiplexed connection")
        }
        return message.data
    }

    // MARK: Writing

    /// The size of the encoded payload, in bytes.
    package var encodedLength: Int {
        switch self {
        case .control(let blocks): return 1 + blocks.reduce(0) { $0 + $1.encodedLength }
        case .frame(let channel, let frame): return channel.encodedLength + 1 + frame.payload.readableBytes
        }
    }

    /// Appends the payload of the physical binary message to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        switch self {
        case .control(let blocks):
            MuxChannelID.control.write(into: &buffer)
            for block in blocks { block.write(into: &buffer) }
        case .frame(let channel, let frame):
            precondition(!channel.isControl, "logical frames never travel on the control channel")
            channel.write(into: &buffer)
            buffer.writeInteger(MuxFrameHeader(of: frame).byte)
            buffer.writeImmutableBuffer(frame.payload)
        }
    }

    /// The payload of the physical binary message, in a new buffer of exactly its size.
    package func payload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedLength)
        write(into: &buffer)
        return buffer
    }

    /// Only the bytes that precede a logical frame's payload: its channel ID
    /// and header byte. A sender that gathers writes can send these and the
    /// payload buffer without joining them.
    package static func framePrefix(channel: MuxChannelID, header: MuxFrameHeader, into buffer: inout ByteBuffer) {
        precondition(!channel.isControl, "logical frames never travel on the control channel")
        channel.write(into: &buffer)
        buffer.writeInteger(header.byte)
    }
}
