import NIOCore

/// Turns bytes into frames (RFC 6455 §5.2), unmasking as it copies and
/// refusing what the protocol forbids as soon as the header shows it.
///
/// The parser takes every byte it is given: a frame's header is consumed as
/// soon as it is complete (the first bytes of one that is not are kept by the
/// parser), and payload bytes move out of the caller's buffer as they arrive.
/// The caller keeps nothing between reads.
///
/// Where a masked payload goes: into a buffer of the frame's own, sized to the
/// payload, unmasked while it is copied (one pass, see
/// ``WireMaskingKey/apply(from:to:offset:)``). Unmasking in the read
/// buffer instead would be a write to storage that earlier frames' payloads
/// still share (they are slices of it, handed to the application), and
/// ByteBuffer would copy the rest of the read buffer on write, once per frame.
/// An unmasked payload (a client reading a server) that is whole in the input
/// is a slice of it, not a copy.
///
/// While a payload is incomplete, the parser reports what arrived as
/// ``Result/partial(_:newBytes:)``, so that the engine can check UTF-8 of a text
/// frame before its last byte arrives (fail fast, §8.1).
public struct FrameParser: Sendable {
    /// The fixed part of a frame, decoded.
    public struct Header: Sendable, Hashable {
        public var fin: Bool
        public var reservedBits: WireFrame.ReservedBits
        public var opcode: WireOpcode
        public var payloadLength: Int
        /// Present on client-to-server frames (§5.3).
        public var maskingKey: WireMaskingKey?
    }

    /// What one call to ``next(from:)`` found.
    public enum Result: Sendable {
        /// A whole frame.
        case frame(WireFrame)
        /// The header and the part of the payload that arrived since the last call, unmasked.
        /// `newBytes` is a view of the parser's payload buffer: drop it before the next call,
        /// or the parser's next append copies that buffer.
        case partial(Header, newBytes: ByteBuffer)
        /// Nothing new; call again when more bytes arrive.
        case needMoreData
    }

    @usableFromInline enum State: Sendable {
        /// Between frames. `partialHeader` holds the first bytes of a header that
        /// has not arrived whole (fewer than ``maxHeaderLength``).
        case awaitingHeader(partialHeader: ByteBuffer?)
        /// The header is read; the payload arrives, unmasked, into `payload`, a buffer of its own.
        case awaitingPayload(Header, payload: ByteBuffer)
    }

    /// 2 bytes, an 8-byte length and a 4-byte key (§5.2).
    static let maxHeaderLength = 14
    /// The most a payload buffer reserves ahead of the bytes that arrived: a peer that announces
    /// a large frame and sends little of it gets no more than this held for it in advance.
    static let maxReservation = 1 << 20

    /// Which endpoint is parsing: a server requires masked frames, a client unmasked ones (§5.1).
    public let role: WebSocketRole
    /// Reserved bits that a negotiated extension claims; any other set bit closes with 1002 (§5.2).
    public var allowedReservedBits: WireFrame.ReservedBits
    /// Frames with a longer payload close with 1009 (§7.4.1).
    public var maxFrameSize: Int
    /// Where payload buffers come from.
    public let allocator: ByteBufferAllocator
    @usableFromInline var state: State = .awaitingHeader(partialHeader: nil)

    public init(
        role: WebSocketRole, maxFrameSize: Int, allowedReservedBits: WireFrame.ReservedBits = [],
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowedReservedBits = allowedReservedBits
        self.allocator = allocator
    }

    /// Reads the next frame, or as much of it as has arrived, consuming the bytes it read.
    ///
    /// Call it until it returns ``Result/needMoreData``; by then `buffer` is empty.
    public mutating func next(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Result {
        switch state {
        case .awaitingHeader(let partialHeader):
            let header: Header?
            if var pending = partialHeader {
                state = .awaitingHeader(partialHeader: nil)  // so that `pending` is uniquely referenced and grows in place
                header = try readHeader(continuing: &pending, from: &buffer)
            } else {
                header = try readHeader(from: &buffer)
                if header == nil, buffer.readableBytes > 0 {
                    var pending = allocator.buffer(capacity: Self.maxHeaderLength)
                    pending.writeBuffer(&buffer)
                    state = .awaitingHeader(partialHeader: pending)
                }
            }
            guard let header else { return .needMoreData }
            if header.maskingKey == nil, buffer.readableBytes >= header.payloadLength {
                // Unmasked and whole: a slice of the input, no copy.
                return .frame(Self.makeFrame(header, payload: buffer.readSlice(length: header.payloadLength)!))
            }
            var payload = allocator.buffer(capacity: min(header.payloadLength, max(buffer.readableBytes, Self.maxReservation)))
            return receivePayload(header, into: &payload, from: &buffer)
        case .awaitingPayload(let header, var payload):
            state = .awaitingHeader(partialHeader: nil)  // so that `payload` is uniquely referenced and grows in place
            return receivePayload(header, into: &payload, from: &buffer)
        }
    }

    /// Moves payload bytes from `buffer` to `payload`, unmasking them on the way; returns the
    /// frame once it is whole, else the new bytes.
    private mutating func receivePayload(_ header: Header, into payload: inout ByteBuffer, from buffer: inout ByteBuffer) -> Result {
        let received = payload.readableBytes
        let count = min(buffer.readableBytes, header.payloadLength - received)
        if let key = header.maskingKey {
            _ = buffer.withUnsafeReadableBytes { source in
                payload.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
                    key.apply(from: UnsafeRawBufferPointer(rebasing: source[..<count]), to: destination, offset: received)
                    return count
                }
            }
            buffer.moveReaderIndex(forwardBy: count)
        } else {
            var bytes = buffer.readSlice(length: count)!
            payload.writeBuffer(&bytes)
        }
        if payload.readableBytes == header.payloadLength {
            return .frame(Self.makeFrame(header, payload: payload))
        }
        state = .awaitingPayload(header, payload: payload)
        guard count > 0 else { return .needMoreData }
        return .partial(header, newBytes: payload.getSlice(at: payload.readerIndex + received, length: count)!)
    }

    private static func makeFrame(_ header: Header, payload: ByteBuffer) -> WireFrame {
        WireFrame(fin: header.fin, reservedBits: header.reservedBits, opcode: header.opcode, payload: payload)
    }

    /// Completes a header whose first bytes arrived in an earlier read: takes from `buffer`
    /// only the bytes that belong to the header.
    private mutating func readHeader(continuing pending: inout ByteBuffer, from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Header? {
        let had = pending.readableBytes
        let taken = min(Self.maxHeaderLength - had, buffer.readableBytes)
        pending.writeImmutableBuffer(buffer.getSlice(at: buffer.readerIndex, length: taken)!)
        guard let header = try readHeader(from: &pending) else {
            // Still incomplete (the read was shorter than the rest of the header).
            buffer.moveReaderIndex(forwardBy: taken)
            state = .awaitingHeader(partialHeader: pending)
            return nil
        }
        // `pending` now holds only the bytes taken past the header's end: give them back.
        buffer.moveReaderIndex(forwardBy: taken - pending.readableBytes)
        return header
    }

    /// The rules a frame's first byte and length must meet, however it is carried (§5.2, §5.5):
    /// a defined opcode, only reserved bits an extension claims, control frames whole and at
    /// most 125 bytes. `length` may be the 7-bit length field (126 and 127 exceed 125 too).
    static func checkRules(
        fin: Bool, reservedBits: WireFrame.ReservedBits, opcode: WireOpcode, length: Int,
        allowedReservedBits: WireFrame.ReservedBits
    ) throws(WebSocketProtocolError) {
        guard opcode.isDefined else { throw .protocolViolation("reserved opcode \(opcode.rawValue)") }  // §5.2
        guard reservedBits.subtracting(allowedReservedBits).isEmpty else {
            throw .protocolViolation("reserved bits set with no extension negotiated for them")  // §5.2
        }
        if opcode.isControl {
            guard fin else { throw .protocolViolation("fragmented control frame") }  // §5.5
            guard length <= 125 else { throw .protocolViolation("control frame longer than 125 bytes") }  // §5.5
        }
    }

    /// Decodes and checks a header; consumes it only when it is complete.
    private func readHeader(from buffer: inout ByteBuffer) throws(WebSocketProtocolError) -> Header? {
        guard buffer.readableBytes >= 2,
            let b0 = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let b1 = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }

        let fin = b0 & 0x80 != 0
        let rsv = WireFrame.ReservedBits(rawValue: b0)
        let opcode = WireOpcode(uncheckedRawValue: b0 & 0x0F)
        let masked = b1 & 0x80 != 0
        let shortLength = Int(b1 & 0x7F)

        // Everything that can be refused from the first two bytes is refused now.
        try Self.checkRules(fin: fin, reservedBits: rsv, opcode: opcode, length: shortLength, allowedReservedBits: allowedReservedBits)
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
        var key: WireMaskingKey?
        if masked {
            let b = buffer.getBytes(at: index, length: 4)!
            key = WireMaskingKey(b[0], b[1], b[2], b[3])
        }
        buffer.moveReaderIndex(forwardBy: headerLength)
        return Header(fin: fin, reservedBits: rsv, opcode: opcode, payloadLength: Int(length), maskingKey: key)
    }
}
