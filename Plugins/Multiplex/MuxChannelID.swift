import NIOCore

/// The number of a logical channel on a multiplexed connection.
///
/// Channel 0 is the control channel: its messages carry multiplex control
/// blocks, never application data. Channel 1 is the implicitly opened channel:
/// the logical connection that the physical opening handshake itself asked
/// for, open from the start without an AddChannelRequest. Channels 2 and up are
/// opened with AddChannelRequest.
///
/// On the wire an ID takes 1 to 4 bytes, big-endian; the leading bits of the
/// first byte say how many:
///
///     0xxxxxxx                                  0 ... 127         (7 bits)
///     10xxxxxx xxxxxxxx                         ... 16_383        (14 bits)
///     110xxxxx xxxxxxxx xxxxxxxx                ... 2_097_151     (21 bits)
///     111xxxxx xxxxxxxx xxxxxxxx xxxxxxxx       ... 536_870_911   (29 bits)
///
/// We always write the shortest form and refuse a longer one on reading
/// (mod_pywebsocket 0.7.9 accepts it; no known sender writes it).
package struct MuxChannelID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The channel number, at most ``maxRawValue``.
    package let rawValue: UInt32

    /// The largest ID the 29 bits of the longest encoding hold.
    package static let maxRawValue: UInt32 = (1 << 29) - 1

    /// The control channel, 0.
    package static let control = MuxChannelID(unchecked: 0)
    /// The implicitly opened channel, 1: the physical handshake's own resource.
    package static let implicit = MuxChannelID(unchecked: 1)

    /// An ID, or `nil` when `rawValue` exceeds ``maxRawValue``.
    ///
    /// With a literal argument, `MuxChannelID(5)` is not this initializer but
    /// ``init(integerLiteral:)`` (SE-0213): it is not optional and traps when too large.
    package init?(_ rawValue: UInt32) {
        guard rawValue <= Self.maxRawValue else { return nil }
        self.rawValue = rawValue
    }

    /// An ID from a literal; the literal must not exceed ``maxRawValue``.
    package init(integerLiteral value: UInt32) {
        precondition(value <= Self.maxRawValue, "channel ID \(value) exceeds \(Self.maxRawValue)")
        self.rawValue = value
    }

    init(unchecked rawValue: UInt32) { self.rawValue = rawValue }

    /// Whether this is the control channel.
    package var isControl: Bool { rawValue == 0 }

    package var description: String { String(rawValue) }

    package static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }

    // MARK: Wire form

    /// How many bytes the shortest encoding takes: 1, 2, 3 or 4.
    package var encodedLength: Int {
        switch rawValue {
        case ..<(1 << 7): return 1
        case ..<(1 << 14): return 2
        case ..<(1 << 21): return 3
        default: return 4
        }
    }

    /// Appends the shortest encoding to `buffer`.
    package func write(into buffer: inout ByteBuffer) {
        switch encodedLength {
        case 1: buffer.writeInteger(UInt8(rawValue))
        case 2: buffer.writeInteger(UInt16(0x8000 | rawValue))
        case 3:
            buffer.writeInteger(UInt8(0xC0 | (rawValue >> 16)))
            buffer.writeInteger(UInt16(truncatingIfNeeded: rawValue))
        default: buffer.writeInteger(0xE000_0000 | rawValue)
        }
    }

    /// Reads an ID from the front of `buffer`.
    ///
    /// - Parameter code: the drop code for an ID that is cut short or not in
    ///   its shortest form: 2002 at the start of a message, 2005 inside a
    ///   control block.
    static func read(from buffer: inout ByteBuffer, failing code: MuxDropCode) throws(MuxWireError) -> MuxChannelID {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            throw MuxWireError(code, "channel ID missing")
        }
        let length: Int
        let mask: UInt32
        switch first {
        case ..<0x80:
            length = 1
            mask = 0x7F
        case ..<0xC0:
            length = 2
            mask = 0x3FFF
        case ..<0xE0:
            length = 3
            mask = 0x1F_FFFF
        default:
            length = 4
            mask = 0x1FFF_FFFF
        }
        guard let bytes = buffer.readBytes(length: length) else {
            throw MuxWireError(code, "channel ID cut short: \(length) bytes announced, \(buffer.readableBytes) left")
        }
        let value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & mask
        let id = MuxChannelID(unchecked: value)
        guard id.encodedLength == length else {
            throw MuxWireError(code, "channel ID \(value) written in \(length) bytes instead of \(id.encodedLength)")
        }
        return id
    }
}
