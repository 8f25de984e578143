/// Standard base64 (RFC 4648 §4), for the handshake's key and accept values.
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Written straight into the string's storage: one allocation.
    package static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: (bytes.count + 2) / 3 * 4) { out in
            var o = 0
            for i in stride(from: 0, to: bytes.count, by: 3) {
                let n = min(3, bytes.count - i)
                let v = UInt32(bytes[i]) << 16 | (n > 1 ? UInt32(bytes[i + 1]) << 8 : 0) | (n > 2 ? UInt32(bytes[i + 2]) : 0)
                for j in 0..<4 {
                    out[o] = j <= n ? alphabet[Int(v >> UInt32(18 - 6 * j)) & 63] : UInt8(ascii: "=")
                    o += 1
                }
            }
            return o
        }
    }

    /// Decodes canonical padded base64; `nil` for anything else.
    package static func decode(_ string: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count / 4 * 3)
        return walk(string) { out.append($0) } ? out : nil
    }

    /// How many bytes `string` decodes to, with the rules of ``decode(_:)``; `nil` when it is not
    /// canonical padded base64. Checking a `Sec-WebSocket-Key` this way allocates nothing.
    static func decodedCount(_ string: String) -> Int? {
        var count = 0
        return walk(string) { _ in count += 1 } ? count : nil
    }

    /// Hands each decoded byte of `string` to `emit`; false as soon as `string` is not canonical
    /// padded base64 (a length that is a multiple of 4, `=` only as the last one or two characters).
    private static func walk(_ string: String, _ emit: (UInt8) -> Void) -> Bool {
        let chars = string.utf8
        let count = chars.count
        guard count % 4 == 0 else { return false }
        var v: UInt32 = 0
        var padding = 0
        var position = 0
        for c in chars {
            let j = position & 3
            if c == UInt8(ascii: "=") {
                guard position - j + 4 == count, j >= 2 else { return false }
                padding += 1
                v <<= 6
            } else {
                guard padding == 0, let index = value(of: c) else { return false }
                v = v << 6 | index
            }
            position += 1
            guard j == 3 else { continue }
            emit(UInt8(truncatingIfNeeded: v >> 16))
            if padding < 2 { emit(UInt8(truncatingIfNeeded: v >> 8)) }
            if padding < 1 { emit(UInt8(truncatingIfNeeded: v)) }
            v = 0
        }
        return true
    }

    /// The 6-bit value of a base64 character, or nil.
    private static func value(of c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
