/// SHA-1 (FIPS 180-4), only for `Sec-WebSocket-Accept` (RFC 6455 §4.2.2).
///
/// The handshake hashes 60 bytes once per connection; a 60-line implementation
/// spares the core a dependency on a crypto library for that one use. SHA-1's
/// weakness does not matter here: the accept value proves the server read the
/// key, it is not a security mechanism.
enum SHA1 {
    /// The 20-byte digest. Allocates the padded copy and the result only: the message
    /// schedule lives on the stack.
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var data: [UInt8] = []
        data.reserveCapacity((message.count + 8) / 64 * 64 + 64)
        data.append(contentsOf: message)
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for chunk in stride(from: 0, to: data.count, by: 64) {
                for i in 0..<16 {
                    let j = chunk + i * 4
                    w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
                }
                for i in 16..<80 { w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotatedLeft(1) }
                var (a, b, c, d, e) = h
                for i in 0..<80 {
                    let f: UInt32
                    let k: UInt32
                    switch i {
                    case 0..<20:
                        f = (b & c) | (~b & d)
                        k = 0x5A82_7999
                    case 20..<40:
                        f = b ^ c ^ d
                        k = 0x6ED9_EBA1
                    case 40..<60:
                        f = (b & c) | (b & d) | (c & d)
                        k = 0x8F1B_BCDC
                    default:
                        f = b ^ c ^ d
                        k = 0xCA62_C1D6
                    }
                    let t = a.rotatedLeft(5) &+ f &+ e &+ k &+ w[i]
                    (e, d, c, b, a) = (d, c, b.rotatedLeft(30), a, t)
                }
                h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
            }
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for v in [h.0, h.1, h.2, h.3, h.4] {
            for shift in stride(from: 24, through: 0, by: -8) { digest.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
        }
        return digest
    }
}

extension UInt32 {
    fileprivate func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}
