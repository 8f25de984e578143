/// The four-byte masking key of a client-to-server frame (RFC 6455 §5.3).
public struct WireMaskingKey: Hashable, Sendable {
    /// The key in wire order, packed so that byte 0 of the key is the lowest byte in memory.
    public let bytes: (UInt8, UInt8, UInt8, UInt8)

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) { bytes = (b0, b1, b2, b3) }

    /// A key from a cryptographically strong source, as §5.3 requires of clients.
    public static func random() -> WireMaskingKey {
        var rng = SystemRandomNumberGenerator()
        let v = rng.next() as UInt32
        return WireMaskingKey(
            UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8),
            UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24))
    }

    public static func == (l: Self, r: Self) -> Bool { l.word == r.word }
    public func hash(into h: inout Hasher) { h.combine(word) }

    /// The key as a 32-bit little-endian word: memory order equals wire order.
    @usableFromInline var word: UInt32 {
        UInt32(bytes.0) | UInt32(bytes.1) << 8 | UInt32(bytes.2) << 16 | UInt32(bytes.3) << 24
    }

    @inlinable func byte(_ i: Int) -> UInt8 {
        switch i & 3 {
        case 0: return bytes.0
        case 1: return bytes.1
        case 2: return bytes.2
        default: return bytes.3
        }
    }

    /// XORs `buffer` with the key in place, starting at key position `offset` (the
    /// number of payload bytes already masked).
    @inlinable
    public func apply(to buffer: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        guard let base = buffer.baseAddress else { return }
        apply(from: UnsafeRawPointer(base), to: base, count: buffer.count, offset: offset)
    }

    /// XORs `source` with the key into `destination`, starting at key position
    /// `offset`: one pass that copies and (un)masks together, so that a payload
    /// that has to be copied anyway is read and written once, not twice.
    ///
    /// `destination` must hold at least `source.count` bytes.
    @inlinable
    public func apply(from source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        precondition(destination.count >= source.count, "masking destination smaller than its source")
        guard let s = source.baseAddress, let d = destination.baseAddress else { return }
        apply(from: s, to: d, count: source.count, offset: offset)
    }

    /// The loop behind both entry points, 32 bytes at a time. `source` and
    /// `destination` are either the same address (in place) or do not overlap.
    ///
    /// A byte loop runs about 12x slower than a word loop on these machines, and
    /// masking touches every payload byte, so the wide loop is the default path.
    @inlinable
    func apply(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, count: Int, offset: Int) {
        var s = source
        var d = destination
        var remaining = count
        // Rotate the key so that position 0 lines up with key byte `offset`.
        let shift = UInt32((offset & 3) * 8)
        let rotated = shift == 0 ? word : (word >> shift) | (word << (32 - shift))
        let w64 = UInt64(rotated) | UInt64(rotated) << 32
        // Little-endian hosts (x86_64, arm64): memory order of `w64` is wire order.
        // Four independent 64-bit lanes per iteration, all loads before the stores (so
        // that in-place use is safe); the optimizer turns this into vector code.
        while remaining >= 32 {
            let a = s.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            let b = s.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = s.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            let e = s.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            d.storeBytes(of: a ^ w64, toByteOffset: 0, as: UInt64.self)
            d.storeBytes(of: b ^ w64, toByteOffset: 8, as: UInt64.self)
            d.storeBytes(of: c ^ w64, toByteOffset: 16, as: UInt64.self)
            d.storeBytes(of: e ^ w64, toByteOffset: 24, as: UInt64.self)
            s += 32
            d += 32
            remaining -= 32
        }
        while remaining >= 8 {
            d.storeBytes(of: s.loadUnaligned(as: UInt64.self) ^ w64, as: UInt64.self)
            s += 8
            d += 8
            remaining -= 8
        }
        var k = rotated
        while remaining > 0 {
            d.storeBytes(of: s.load(as: UInt8.self) ^ UInt8(truncatingIfNeeded: k), as: UInt8.self)
            k = (k >> 8) | (k << 24)
            s += 1
            d += 1
            remaining -= 1
        }
    }
}
