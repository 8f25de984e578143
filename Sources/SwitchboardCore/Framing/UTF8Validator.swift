/// An incremental UTF-8 validator (RFC 3629 §4), fed a fragment at a time.
///
/// It rejects a sequence at the first byte that makes it impossible (an
/// overlong form, a surrogate, a code point past U+10FFFF), not at the end of
/// the message, so a connection sending bad text fails as soon as it can
/// (RFC 6455 §8.1). Runs of ASCII are checked eight bytes at a time.
public struct UTF8Validator: Sendable, Hashable {
    /// What the next byte must be.
    @usableFromInline enum Expectation: UInt8, Sendable {
        case lead  // a complete sequence so far
        case tail1  // one continuation byte 80...BF to go
        case tail2  // two to go
        case tail3  // three to go
        case afterE0  // A0...BF, then one more (no overlongs)
        case afterED  // 80...9F, then one more (no surrogates)
        case afterF0  // 90...BF, then two more (no overlongs)
        case afterF4  // 80...8F, then two more (nothing past U+10FFFF)
    }

    @usableFromInline var expectation: Expectation = .lead

    public init() {}

    /// Whether the bytes seen so far end on a character boundary.
    public var isComplete: Bool { expectation == .lead }

    /// Feeds more bytes; returns `false` as soon as the input cannot be UTF-8.
    /// After a `false`, the validator's state is meaningless.
    @inlinable
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var i = 0
        var state = expectation
        while i < count {
            if state == .lead {
                // ASCII fast path: eight bytes at a time while no high bit is set.
                while i + 8 <= count, base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                if i == count { break }
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            switch state {
            case .lead:
                switch b {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: state = .tail1
                case 0xE0: state = .afterE0
                case 0xE1...0xEC, 0xEE...0xEF: state = .tail2
                case 0xED: state = .afterED
                case 0xF0: state = .afterF0
                case 0xF1...0xF3: state = .tail3
                case 0xF4: state = .afterF4
                default: return false  // 80...C1 and F5...FF never start a sequence
                }
            case .tail1:
                guard b & 0xC0 == 0x80 else { return false }
                state = .lead
            case .tail2:
                guard b & 0xC0 == 0x80 else { return false }
                state = .tail1
            case .tail3:
                guard b & 0xC0 == 0x80 else { return false }
                state = .tail2
            case .afterE0:
                guard (0xA0...0xBF).contains(b) else { return false }
                state = .tail1
            case .afterED:
                guard (0x80...0x9F).contains(b) else { return false }
                state = .tail1
            case .afterF0:
                guard (0x90...0xBF).contains(b) else { return false }
                state = .tail2
            case .afterF4:
                guard (0x80...0x8F).contains(b) else { return false }
                state = .tail2
            }
        }
        expectation = state
        return true
    }

    /// Validates a whole byte sequence at once.
    public static func isValid(_ bytes: some Sequence<UInt8>) -> Bool {
        var v = UTF8Validator()
        let ok =
            bytes.withContiguousStorageIfAvailable { v.validate(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { v.validate($0) }
        return ok && v.isComplete
    }
}
