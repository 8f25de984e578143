import NIOCore

/// Turns bytes into frames (RFC 6455 §5.2), unmasking in place and refusing
/// what the protocol forbids as soon as the header shows it.
///
/// The parser consumes a frame's header as soon as it is complete, then waits
/// for the payload. While waiting, it unmasks what has arrived and reports it
/// as ``Result/partial(_:newBytes:)``, so that the engine can check UTF-8 of a
/// text frame before its last byte arrives (fail fast, §8.1).
public struct FrameParser: Sendable {
    /// The fixed part of a frame, decoded.
    public struct Header: Sendable, Hashable {
        public var fin: Bool
        public var reservedBits: WebSocketFrame.ReservedBits
        public var opcode: WebSocketOpcode
        public var payloadLength: Int
        /// Present on client-to-server frames (§5.3).
        public var maskingKey: WebSocketMaskingKey?
    }

    /// What one call to ``next(from:)`` found.
    public enum Result: Sendable {
        /// A whole frame; its payload is a slice of the input.
        case frame(WebSocketFrame)
        /// The header and the part of the payload that arrived since the last call, unmasked.
        case partial(Header, newBytes: ByteBuffer)
        /// Nothing new; call again when more bytes arrive.
        case needMoreData
    }

    @usableFromInline enum State: Sendable {
        case awaitingHeader
        case awaitingPayload(Header, unmasked: Int)
    }

    /// Which endpoint is parsing: a server requires masked frames, a client unmasked ones (§5.1).
    public let role: WebSocketRole
    /// Reserved bits that a negotiated extension claims; any other set bit closes with 1002 (§5.2).
    public var allowedReservedBits: WebSocketFrame.ReservedBits
    /// Frames with a longer payload close with 1009 (§7.4.1).
    public var maxFrameSize: Int
    @usableFromInline var state: State = .awaitingHeader

    public init(role: WebSocketRole, maxFrameSize: Int, allowedReservedBits: WebSocketFrame.ReservedBits = []) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowedReservedBits = allowedReservedBits
    }

    /// Reads the next frame, or as much of it as has arrived.
    ///
    /// Bytes of a frame that is not complete stay in `buffer` (unmasked); keep
    /// them and append new bytes after them.
    public mutating func next(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Result {
        let header: Header
        let unmasked: Int
        switch state {
        case .awaitingHeader:
            guard let h = try readHeader(from: &buffer) else { return .needMoreData }
            header = h
            unmasked = 0
        case .awaitingPayload(let h, let u):
            header = h
            unmasked = u
        }

        let available = min(buffer.readableBytes, header.payloadLength)
        if let key = header.maskingKey, available > unmasked {
            buffer.withUnsafeMutableReadableBytes { bytes in
                key.apply(to: UnsafeMutableRawBufferPointer(rebasing: bytes[unmasked..<available]), offset: unmasked)
            }
        }
        if available == header.payloadLength {
            state = .awaitingHeader
            let payload = buffer.readSlice(length: header.payloadLength)!
            return .frame(WebSocketFrame(fin: header.fin, reservedBits: header.reservedBits, opcode: header.opcode, payload: payload))
        }
        state = .awaitingPayload(header, unmasked: available)
        guard available > unmasked else { return .needMoreData }
        let newBytes = buffer.getSlice(at: buffer.readerIndex + unmasked, length: available - unmasked)!
        return .partial(header, newBytes: newBytes)
    }

    /// Decodes and checks a header; consumes it only when it is complete.
    private func readHeader(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Header? {
        guard buffer.readableBytes >= 2,
              let b0 = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let b1 = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }

        let fin = b0 & 0x80 != 0
        let rsv = WebSocketFrame.ReservedBits(rawValue: b0)
        let opcode = WebSocketOpcode(uncheckedRawValue: b0 & 0x0F)
        let masked = b1 & 0x80 != 0
        let shortLength = Int(b1 & 0x7F)

        // Everything that can be refused from the first two bytes is refused now.
        guard opcode.isDefined else { throw .protocolViolation("reserved opcode \(opcode.rawValue)") }  // §5.2
        guard rsv.subtracting(allowedReservedBits).isEmpty else {
            throw .protocolViolation("reserved bits set with no extension negotiated for them")  // §5.2
        }
        if opcode.isControl {
            guard fin else { throw .protocolViolation("fragmented control frame") }  // §5.5
            guard shortLength <= 125 else { throw .protocolViolation("control frame longer than 125 bytes") }  // §5.5
        }
        switch role {
        case .server where !masked: throw .protocolViolation("unmasked frame from a client")  // §5.1
        case .client where masked: throw .protocolViolation("masked frame from a server")  // §5.1
        default: break
        }

        let lengthBytes = shortLength == 126 ? 2 : shortLength == 127 ? 8 : 0
        let headerLength = 2 + lengthBytes + (masked ? 4 : 0)
        guard buffer.readableBytes >= headerLength else { return nil }

        var index = buffer.readerIndex + 2
        let length: UInt64
        switch lengthBytes {
        case 2: length = UInt64(buffer.getInteger(at: index, as: UInt16.self)!)
        case 8: length = buffer.getInteger(at: index, as: UInt64.self)!
        default: length = UInt64(shortLength)
        }
        index += lengthBytes
        guard length >> 63 == 0 else { throw .protocolViolation("payload length with the most significant bit set") }  // §5.2
        guard length <= UInt64(maxFrameSize) else {
            throw WebSocketProtocolError(.messageTooBig, "frame of \(length) bytes exceeds the limit of \(maxFrameSize)")
        }
        var key: WebSocketMaskingKey?
        if masked {
            let b = buffer.getBytes(at: index, length: 4)!
            key = WebSocketMaskingKey(b[0], b[1], b[2], b[3])
        }
        buffer.moveReaderIndex(forwardBy: headerLength)
        return Header(fin: fin, reservedBits: rsv, opcode: opcode, payloadLength: Int(length), maskingKey: key)
    }
}

/// Which end of the connection an endpoint is.
public enum WebSocketRole: Sendable, Hashable {
    case client
    case server
}
