import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite("UTF8Validator (RFC 3629 §3-§4, RFC 6455 §8.1)")
struct UTF8ValidatorTests {
    static func feed(_ v: inout UTF8Validator, _ bytes: some Collection<UInt8>) -> Bool {
        Array(bytes).withUnsafeBytes { v.validate($0) }
    }

    static let valid: [[UInt8]] = [
        [],
        Array("plain ASCII, long enough for the eight-byte fast path".utf8),
        Array("aé€𝄞 — 日本語 🇫🇷".utf8),
        [0x7F],  // U+007F, last one-byte
        [0xC2, 0x80],  // U+0080, first two-byte
        [0xDF, 0xBF],  // U+07FF
        [0xE0, 0xA0, 0x80],  // U+0800, first three-byte
        [0xED, 0x9F, 0xBF],  // U+D7FF, last before the surrogates
        [0xEE, 0x80, 0x80],  // U+E000, first after them
        [0xEF, 0xBF, 0xBF],  // U+FFFF
        [0xF0, 0x90, 0x80, 0x80],  // U+10000, first four-byte
        [0xF4, 0x8F, 0xBF, 0xBF],  // U+10FFFF, the last code point
        [0xEF, 0xBB, 0xBF] + Array("BOM".utf8),
    ]

    @Test("RFC 3629 §4: valid one- to four-byte sequences and boundary code points are accepted")
    func validSequences() {
        for bytes in Self.valid {
            #expect(UTF8Validator.isValid(bytes), "\(bytes)")
            var v = UTF8Validator()
            #expect(Self.feed(&v, bytes))
            #expect(v.isComplete)
        }
    }

    static let invalid: [[UInt8]] = [
        [UInt8(0xC0), 0x80],  // overlong U+0000
        [0xC1, 0xBF],  // overlong U+007F
        [0xE0, 0x80, 0x80],  // overlong U+0000
        [0xE0, 0x9F, 0xBF],  // overlong U+07FF
        [0xF0, 0x80, 0x80, 0x80],  // overlong U+0000
        [0xF0, 0x8F, 0xBF, 0xBF],  // overlong U+FFFF
        [0xED, 0xA0, 0x80],  // U+D800, a surrogate
        [0xED, 0xBF, 0xBF],  // U+DFFF
        [0xF4, 0x90, 0x80, 0x80],  // U+110000
        [0xF5, 0x80, 0x80, 0x80],  // F5 never appears
        [0xFF], [0xFE], [0x80],  // never a lead byte
        [0xC2, 0x41],  // lead without its continuation
        [0xE2, 0x82, 0x41],
        [0xF0, 0x9D, 0x84, 0xC0],
    ]

    @Test("RFC 3629 §3, §10: overlong forms, surrogates, code points past U+10FFFF and stray bytes are refused", arguments: invalid)
    func invalidSequences(bytes: [UInt8]) {
        #expect(!UTF8Validator.isValid(bytes))
        var v = UTF8Validator()
        #expect(!Self.feed(&v, bytes))
        // Also when preceded by ASCII long enough for the fast path, and followed by more text.
        #expect(!UTF8Validator.isValid(Array("0123456789abcdef".utf8) + bytes + Array("tail".utf8)))
    }

    @Test("§8.1: a sequence split across feeds is accepted at every split position")
    func splitAtEveryPosition() {
        for bytes in Self.valid {
            for cut in 0...bytes.count {
                var v = UTF8Validator()
                #expect(Self.feed(&v, bytes[..<cut]), "\(bytes) cut at \(cut)")
                #expect(Self.feed(&v, bytes[cut...]), "\(bytes) cut at \(cut)")
                #expect(v.isComplete)
            }
            var v = UTF8Validator()
            for b in bytes { #expect(Self.feed(&v, [b])) }
            #expect(v.isComplete)
        }
    }

    static let early: [([UInt8], Int)] = [
        (Array("ab".utf8) + [0xED, 0xA0, 0x80], 3),  // ED A0: a surrogate is certain at A0
        ([0xF4, 0x90, 0x80, 0x80], 1),  // F4 90: past U+10FFFF
        ([0xE0, 0x80, 0x80], 1),  // E0 80: overlong
        ([0xF0, 0x80, 0x80, 0x80], 1),  // F0 80: overlong
        ([0xC0, 0x80], 0),  // C0 never starts a sequence
        (Array("0123456789".utf8) + [0xFF] + Array("abc".utf8), 10),  // after the ASCII fast path
        ([0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64], 12),
    ]

    @Test("§8.1: validation fails at the first impossible byte, not at the end", arguments: early)
    func failsEarly(bytes: [UInt8], failIndex: Int) {
        var v = UTF8Validator()
        var failedAt: Int?
        for (i, b) in bytes.enumerated() where !Self.feed(&v, [b]) {
            failedAt = i
            break
        }
        #expect(failedAt == failIndex)
        // Fed everything up to the bad byte in one piece: no failure yet.
        var w = UTF8Validator()
        #expect(Self.feed(&w, bytes[..<failIndex]))
        #expect(!Self.feed(&w, bytes[failIndex...]))
    }

    static let cutOff: [[UInt8]] = [
        [UInt8(0xE2), 0x82], [0xC3], [0xF0, 0x9F, 0x98], Array("abc".utf8) + [0xF4],
    ]

    @Test("§8.1: a sequence cut off at the end is incomplete, not invalid", arguments: cutOff)
    func incompleteAtEnd(bytes: [UInt8]) {
        var v = UTF8Validator()
        #expect(Self.feed(&v, bytes))
        #expect(!v.isComplete)
        #expect(!UTF8Validator.isValid(bytes))
    }

    @Test("RFC 3629: agrees with the standard library's decoder on random byte strings")
    func agreesWithStandardLibrary() {
        var rng = SeededRandom(seed: 99)
        // Bytes biased toward lead and continuation bytes, so that most strings are interesting.
        let alphabet: [UInt8] = [
            0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
            0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ]
        var validCount = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 1...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if expected { validCount += 1 }
            #expect(UTF8Validator.isValid(bytes) == expected, "\(bytes.map { String($0, radix: 16) })")
        }
        #expect(validCount > 100)
    }
}
