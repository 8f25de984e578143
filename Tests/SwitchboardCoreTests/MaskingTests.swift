import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite("Masking and FrameWriter (RFC 6455 §5.2, §5.3)")
struct MaskingTests {
    /// §5.3: octet i of the transformed data is octet i of the original XOR octet (i MOD 4) of the key.
    static func naiveMask(_ data: [UInt8], key: WireMaskingKey, offset: Int) -> [UInt8] {
        let k = [key.bytes.0, key.bytes.1, key.bytes.2, key.bytes.3]
        return data.enumerated().map { $0.element ^ k[($0.offset + offset) % 4] }
    }

    static func applied(_ data: [UInt8], key: WireMaskingKey, offset: Int) -> [UInt8] {
        var copy = data
        copy.withUnsafeMutableBytes { key.apply(to: $0, offset: offset) }
        return copy
    }

    @Test("§5.3: apply equals the byte loop of the RFC for every length 0...100 and offset 0...3")
    func applyMatchesNaive() {
        var rng = SeededRandom(seed: 1)
        for length in 0...100 {
            let data = randomBytes(length, using: &rng)
            let k = randomBytes(4, using: &rng)
            let key = WireMaskingKey(k[0], k[1], k[2], k[3])
            for offset in 0...3 {
                #expect(
                    Self.applied(data, key: key, offset: offset) == Self.naiveMask(data, key: key, offset: offset),
                    "length \(length), offset \(offset)")
            }
        }
    }

    @Test("§5.3: apply equals the byte loop on a large random buffer, at an unaligned start")
    func applyLargeBuffer() {
        var rng = SeededRandom(seed: 2)
        let data = randomBytes((1 << 20) + 13, using: &rng)
        let key = WireMaskingKey(0xDE, 0xAD, 0xBE, 0xEF)
        // An unaligned slice exercises the unaligned loads.
        var buffer = [UInt8](repeating: 0, count: data.count + 3)
        buffer.replaceSubrange(3..., with: data)
        buffer.withUnsafeMutableBytes { key.apply(to: UnsafeMutableRawBufferPointer(rebasing: $0[3...]), offset: 2) }
        #expect(Array(buffer[3...]) == Self.naiveMask(data, key: key, offset: 2))
    }

    @Test("§5.3: masking in pieces with running offsets equals masking at once, and masking twice restores the data")
    func applyInPieces() {
        var rng = SeededRandom(seed: 3)
        let data = randomBytes(5000, using: &rng)
        let key = WireMaskingKey(1, 2, 3, 250)
        for _ in 0..<50 {
            var copy = data
            var done = 0
            while done < copy.count {
                let n = min(copy.count - done, Int.random(in: 0...97, using: &rng))
                copy.withUnsafeMutableBytes { key.apply(to: UnsafeMutableRawBufferPointer(rebasing: $0[done..<done + n]), offset: done) }
                done += n
            }
            #expect(copy == Self.naiveMask(data, key: key, offset: 0))
            #expect(Self.applied(copy, key: key, offset: 0) == data)
        }
    }

    @Test("§5.3: the copying form equals the byte loop for every length 0...100, offset 0...3 and unaligned ends")
    func copyingApplyMatchesNaive() {
        var rng = SeededRandom(seed: 4)
        for length in 0...100 {
            let data = randomBytes(length + 3, using: &rng)
            let k = randomBytes(4, using: &rng)
            let key = WireMaskingKey(k[0], k[1], k[2], k[3])
            for offset in 0...3 {
                for (from, to) in [(0, 0), (1, 3), (3, 2)] {
                    var out = [UInt8](repeating: 0xEE, count: length + 4)
                    data.withUnsafeBytes { source in
                        out.withUnsafeMutableBytes { destination in
                            key.apply(
                                from: UnsafeRawBufferPointer(rebasing: source[from..<from + length]),
                                to: UnsafeMutableRawBufferPointer(rebasing: destination[to...]), offset: offset)
                        }
                    }
                    #expect(
                        Array(out[to..<to + length]) == Self.naiveMask(Array(data[from..<from + length]), key: key, offset: offset),
                        "length \(length), offset \(offset), source at \(from), destination at \(to)")
                    #expect(
                        out[..<to].allSatisfy { $0 == 0xEE } && out[(to + length)...].allSatisfy { $0 == 0xEE },
                        "nothing written outside the destination range")
                }
            }
        }
    }

    @Test("§5.3: masking keys from random() differ (a strong source, not a constant)")
    func randomKeysDiffer() {
        let keys = Set((0..<64).map { _ in WireMaskingKey.random() })
        #expect(keys.count > 60)
    }

    // MARK: FrameWriter

    static func written(_ frame: WireFrame, key: WireMaskingKey?) -> [UInt8] {
        var buffer = ByteBuffer()
        FrameWriter.write(frame, maskingKey: key, into: &buffer)
        return buffer.bytes
    }

    @Test("§5.3: FrameWriter masks with the given key, and FrameParser unmasks it back", arguments: [0, 1, 5, 125, 126, 4096, 65535, 65536, 100_003])
    func writerRoundTrip(length: Int) {
        var rng = SeededRandom(seed: UInt64(length) + 100)
        let payload = randomBytes(length, using: &rng)
        let original = WireFrame(fin: false, reservedBits: .rsv2, opcode: .binary, payload: ByteBuffer(bytes: payload))
        let key = WireMaskingKey(0x11, 0x22, 0x33, 0x44)
        let bytes = Self.written(original, key: key)
        let header = FrameWriter.headerSize(payloadLength: length, masked: true)
        #expect(bytes.count == header + length)
        #expect(bytes[1] & 0x80 != 0, "MASK bit set")
        #expect(Array(bytes[header - 4..<header]) == [0x11, 0x22, 0x33, 0x44])
        #expect(Array(bytes[header...]) == Self.naiveMask(payload, key: key, offset: 0))
        #expect(bytes == rawFrame(fin: false, rsv: 0x20, opcode: 2, payload: payload, mask: key))
        let parsed = parseFrames(bytes, role: .server, allowed: .rsv2)
        #expect(parsed.error == nil)
        #expect(parsed.frames == [original])
    }

    @Test("§5.1: FrameWriter without a key writes the payload as is, MASK bit clear")
    func writerUnmasked() {
        let bytes = Self.written(frame(.text, "Hello"), key: nil)
        #expect(bytes == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])  // §5.7
        #expect(parseFrames(bytes, role: .client).frames == [frame(.text, "Hello")])
    }

    @Test(
        "§5.2: FrameWriter uses the minimal length encoding",
        arguments: [
            (125, [UInt8(125)]), (126, [126, 0, 126]), (65535, [126, 0xFF, 0xFF]), (65536, [127, 0, 0, 0, 0, 0, 1, 0, 0]),
        ])
    func minimalLength(length: Int, lengthBytes: [UInt8]) {
        let payload = [UInt8](repeating: 0x41, count: length)
        let bytes = Self.written(frame(.binary, payload), key: nil)
        #expect(bytes[0] == 0x82)
        #expect(Array(bytes[1..<1 + lengthBytes.count]) == lengthBytes)
        #expect(bytes.count == 1 + lengthBytes.count + length)
        #expect(FrameWriter.headerSize(payloadLength: length, masked: false) == 1 + lengthBytes.count)
        #expect(FrameWriter.headerSize(payloadLength: length, masked: true) == 5 + lengthBytes.count)
        let masked = Self.written(frame(.binary, payload), key: testKey)
        #expect(masked[1] == 0x80 | lengthBytes[0])
        #expect(Array(masked[2..<1 + lengthBytes.count]) == Array(lengthBytes.dropFirst()))
    }

    @Test("§5.2: FrameWriter appends after existing bytes and writes FIN, RSV and opcode bits")
    func writerAppends() {
        var buffer = ByteBuffer(bytes: [0xAA, 0xBB])
        FrameWriter.write(
            WireFrame(fin: true, reservedBits: [.rsv1, .rsv3], opcode: .ping, payload: ByteBuffer(bytes: [1])),
            maskingKey: testKey, into: &buffer)
        FrameWriter.write(frame(.continuation, [2, 3], fin: false), maskingKey: testKey, into: &buffer)
        let bytes = buffer.bytes
        #expect(Array(bytes[0..<2]) == [0xAA, 0xBB])
        #expect(
            Array(bytes[2...]) == rawFrame(rsv: 0x50, opcode: 9, payload: [1], mask: testKey)
                + rawFrame(fin: false, opcode: 0, payload: [2, 3], mask: testKey))
    }
}
