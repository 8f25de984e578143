import NIOCore

/// One multiplex control block. A message on the control channel (ID 0)
/// holds one or more of them back to back, and nothing else.
package enum MuxControlBlock: Hashable, Sendable {
    case addChannelRequest(MuxAddChannelRequest)
    case addChannelResponse(MuxAddChannelResponse)
    case flowControl(MuxFlowControl)
    case dropChannel(MuxDropChannel)
    case newChannelSlot(MuxNewChannelSlot)

    /// The block's opcode.
    package var opcode: MuxControlOpcode {
        switch self {
        case .addChannelRequest: return .addChannelRequest
        case .addChannelResponse: return .addChannelResponse
        case .flowControl: return .flowControl
        case .dropChannel: return .dropChannel
        case .newChannelSlot: return .newChannelSlot
        }
    }

    /// The size of the encoded block, in bytes.
    package var encodedLength: Int {
        switch self {
        case .addChannelRequest(let b): return b.encodedLength
        case .addChannelResponse(let b): return b.encodedLength
        case .flowControl(let b): return b.encodedLength
        case .dropChannel(let b): return b.encodedLength
        case .newChannelSlot(let b): return b.encodedLength
        }
    }

    /// Appends the block to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        switch self {
        case .addChannelRequest(let b): b.write(into: &buffer)
        case .addChannelResponse(let b): b.write(into: &buffer)
        case .flowControl(let b): b.write(into: &buffer)
        case .dropChannel(let b): b.write(into: &buffer)
        case .newChannelSlot(let b): b.write(into: &buffer)
        }
    }

    /// Reads one block from the front of `buffer`.
    ///
    /// Handshakes are slices of `buffer`, not copies. Throws 2004 for opcodes
    /// 5-7 and 2005 (or the block's own code) for a malformed block.
    package static func read(from buffer: inout ByteBuffer) throws(MuxWireError) -> MuxControlBlock {
        guard let first = buffer.readInteger(as: UInt8.self) else {
            throw MuxWireError(.invalidMuxControlBlock, "control block missing")
        }
        guard let opcode = MuxControlOpcode(rawValue: first >> 5) else {
            throw MuxWireError(.unknownMuxOpcode, "control block opcode \(first >> 5)")
        }
        switch opcode {
        case .addChannelRequest: return .addChannelRequest(try MuxAddChannelRequest.read(first: first, from: &buffer))
        case .addChannelResponse: return .addChannelResponse(try MuxAddChannelResponse.read(first: first, from: &buffer))
        case .flowControl: return .flowControl(try MuxFlowControl.read(first: first, from: &buffer))
        case .dropChannel: return .dropChannel(try MuxDropChannel.read(first: first, from: &buffer))
        case .newChannelSlot: return .newChannelSlot(try MuxNewChannelSlot.read(first: first, from: &buffer))
        }
    }

    /// Reads every block of a control channel message's payload (after the channel ID).
    ///
    /// The blocks must fill it exactly; an empty payload holds no block.
    package static func readAll(from payload: ByteBuffer) throws(MuxWireError) -> [MuxControlBlock] {
        var payload = payload
        var blocks: [MuxControlBlock] = []
        while payload.readableBytes > 0 {
            blocks.append(try read(from: &payload))
        }
        return blocks
    }
}
