import NIOCore

/// Serializes frames (RFC 6455 §5.2), masking client frames (§5.3).
public enum FrameWriter {
    /// The size of the header `write` produces for a payload of `length` bytes.
    @inlinable
    public static func headerSize(payloadLength length: Int, masked: Bool) -> Int {
        (length < 126 ? 2 : length <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0)
    }

    /// Appends `frame` to `buffer`, using the shortest length form (§5.2 requires it).
    ///
    /// With a `maskingKey` the payload is masked while it is copied (one pass);
    /// without one it is copied as is. Either way there is one copy, into the output.
    @inlinable
    public static func write(_ frame: WireFrame, maskingKey: WireMaskingKey?, into buffer: inout ByteBuffer) {
        let length = frame.payload.readableBytes
        buffer.reserveCapacity(minimumWritableBytes: headerSize(payloadLength: length, masked: maskingKey != nil) + length)
        writeHeader(of: frame, masked: maskingKey != nil, into: &buffer)
        guard let key = maskingKey else {
            var payload = frame.payload
            buffer.writeBuffer(&payload)
            return
        }
        buffer.writeMultipleIntegers(key.bytes.0, key.bytes.1, key.bytes.2, key.bytes.3)
        frame.payload.withUnsafeReadableBytes { source in
            _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { destination in
                key.apply(from: source, to: destination)
                return length
            }
        }
    }

    /// Appends the header of `frame` alone (without a masking key unless `masked`, in which
    /// case the caller writes the key next): for a payload that is sent as its own buffer.
    @inlinable
    public static func writeHeader(of frame: WireFrame, masked: Bool = false, into buffer: inout ByteBuffer) {
        let length = frame.payload.readableBytes
        var b0 = frame.opcode.rawValue | frame.reservedBits.rawValue
        if frame.fin { b0 |= 0x80 }
        let maskBit: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            buffer.writeMultipleIntegers(b0, maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            buffer.writeMultipleIntegers(b0, maskBit | 126, UInt16(length))
        } else {
            buffer.writeMultipleIntegers(b0, maskBit | 127, UInt64(length))
        }
    }
}
