import NIOCore

/// The variable-length numbers of multiplex control blocks: sizes, quotas, slot counts.
///
/// They are written like the payload length of an RFC 6455 frame header
/// (§5.2) with the top bit of the first byte always 0:
///
///     0nnnnnnn                         0 ... 125
///     01111110 + 16-bit big-endian     126 ... 65_535
///     01111111 + 64-bit big-endian     65_536 ... 2^63 - 1
///
/// The shortest form is required (as mod_pywebsocket 0.7.9 requires); every
/// fault is 2005, Invalid Mux Control Block.
enum MuxNumber {
    /// The largest number the encoding holds, 2^63 - 1.
    static let max = Int.max

    static func encodedLength(_ value: Int) -> Int {
        value <= 125 ? 1 : value <= 0xFFFF ? 3 : 9
    }

    static func write(_ value: Int, into buffer: inout ByteBuffer) {
        precondition(value >= 0, "multiplex control block numbers are not negative")
        switch value {
        case ...125: buffer.writeInteger(UInt8(value))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(value))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(value))
        }
    }

    /// Reads a number; `field` names it in the error.
    static func read(from buffer: inout ByteBuffer, field: String) throws(MuxWireError) -> Int {
        guard let first = buffer.readInteger(as: UInt8.self) else {
            throw MuxWireError(.invalidMuxControlBlock, "\(field) missing")
        }
        switch first {
        case 0...125:
            return Int(first)
        case 126:
            guard let value = buffer.readInteger(as: UInt16.self) else {
                throw MuxWireError(.invalidMuxControlBlock, "\(field) cut short")
            }
            guard value > 125 else { throw MuxWireError(.invalidMuxControlBlock, "\(field) \(value) not in its 1-byte form") }
            return Int(value)
        case 127:
            guard let value = buffer.readInteger(as: UInt64.self) else {
                throw MuxWireError(.invalidMuxControlBlock, "\(field) cut short")
            }
            guard value <= UInt64(Int.max) else { throw MuxWireError(.invalidMuxControlBlock, "\(field) has its top bit set") }
            guard value > 0xFFFF else { throw MuxWireError(.invalidMuxControlBlock, "\(field) \(value) not in its 3-byte form") }
            return Int(value)
        default:
            throw MuxWireError(.invalidMuxControlBlock, "\(field) has its top bit set")
        }
    }

    /// Reads a size, then that many bytes (as a slice, not a copy).
    static func readSized(from buffer: inout ByteBuffer, field: String) throws(MuxWireError) -> ByteBuffer {
        let size = try read(from: &buffer, field: "\(field) size")
        guard size <= buffer.readableBytes, let bytes = buffer.readSlice(length: size) else {
            throw MuxWireError(.invalidMuxControlBlock, "\(field) of \(size) bytes, only \(buffer.readableBytes) left")
        }
        return bytes
    }
}
