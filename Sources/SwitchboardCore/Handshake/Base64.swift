/// Standard base64 (RFC 4648 §4), for the handshake's key and accept values.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Written straight into the string's storage: one allocation.
    static func encode(_ bytes: [UInt8]) -> String {
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
    static func decode(_ string: String) -> [UInt8]? {
        let chars = Array(string.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 4) {
            var v: UInt32 = 0
            var padding = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    padding += 1
                    v <<= 6
                } else {
                    guard padding == 0, let index = alphabet.firstIndex(of: c) else { return nil }
                    v = v << 6 | UInt32(index)
                }
            }
            out.append(UInt8(truncatingIfNeeded: v >> 16))
            if padding < 2 { out.append(UInt8(truncatingIfNeeded: v >> 8)) }
            if padding < 1 { out.append(UInt8(truncatingIfNeeded: v)) }
        }
        return out
    }
}
