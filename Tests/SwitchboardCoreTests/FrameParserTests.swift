import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite("FrameParser (RFC 6455 §5)")
struct FrameParserTests {
    // MARK: Payload length forms (§5.2)

    @Test(
        "§5.2: 7-bit, 16-bit and 64-bit payload lengths",
        arguments: [
            (0, 7), (1, 7), (125, 7), (126, 16), (1000, 16), (65535, 16), (65536, 64), (70000, 64),
        ])
    func lengthForms(length: Int, form: Int) throws {
        var rng = SeededRandom(seed: UInt64(length))
        let payload = randomBytes(length, using: &rng)
        for mask in [nil, testKey] {
            let bytes = rawFrame(opcode: 2, payload: payload, mask: mask, lengthForm: form)
            let headerLength = (form == 7 ? 2 : form == 16 ? 4 : 10) + (mask == nil ? 0 : 4)
            #expect(bytes.count == headerLength + length)
            let parsed = parseFrames(bytes, role: mask == nil ? .client : .server)
            #expect(parsed.error == nil)
            #expect(parsed.frames == [frame(.binary, payload)])
        }
    }

    @Test("§5.2: the 16-bit and 64-bit forms are read as big-endian (network byte order)")
    func networkByteOrder() {
        // 0x0102 = 258 bytes in the 16-bit form.
        var bytes: [UInt8] = [0x82, 126, 0x01, 0x02] + [UInt8](repeating: 7, count: 258)
        #expect(parseFrames(bytes, role: .client).frames.first?.payload.readableBytes == 258)
        // 0x0000_0000_0001_0001 = 65537 bytes in the 64-bit form.
        bytes = [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 1] + [UInt8](repeating: 7, count: 65537)
        #expect(parseFrames(bytes, role: .client).frames.first?.payload.readableBytes == 65537)
    }

    @Test("§5.2: a 64-bit length with its most significant bit set closes with 1002")
    func msbOfLongLength() {
        let bytes: [UInt8] = [0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1] + [1, 2, 3, 4]
        #expect(parseError(bytes, role: .server, maxFrameSize: Int.max)?.closeCode == .protocolError)
        let unmasked: [UInt8] = [0x82, 127, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(parseError(unmasked, role: .client, maxFrameSize: Int.max)?.closeCode == .protocolError)
    }

    @Test("§5.2: an incomplete extended length waits in the parser; parsing resumes when the rest arrives")
    func incompleteExtendedLength() throws {
        let bytes = rawFrame(opcode: 2, payload: [UInt8](repeating: 1, count: 300), mask: testKey)
        var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)
        var buffer = ByteBuffer(bytes: bytes[0..<3])  // first byte of the 16-bit length only
        #expect(parseAll(&parser, &buffer) == [])
        #expect(buffer.readableBytes == 0, "the parser keeps the incomplete header itself")
        var rest = ByteBuffer(bytes: bytes[3...])  // a new read, not appended to the first
        #expect(parseAll(&parser, &rest) == [.frame(frame(.binary, [UInt8](repeating: 1, count: 300)))])
        #expect(rest.readableBytes == 0)
    }

    @Test(
        "§5.2: a header split across reads takes only its own bytes from the second read",
        arguments: [1, 3, 5, 9, 15, 21])
    func headerSplitAcrossReads(split: Int) {
        // A 6-byte header and 2 bytes of payload, then a 14-byte header (64-bit length form), then a small frame.
        let big = rawFrame(opcode: 2, payload: [UInt8](repeating: 9, count: 70_000), mask: testKey, lengthForm: 64)
        let bytes = clientFrame(.text, "hi") + big + clientFrame(.text, "after")
        var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)
        var first = ByteBuffer(bytes: bytes[..<split])
        var parsed = parseAll(&parser, &first)
        #expect(first.readableBytes == 0)
        var second = ByteBuffer(bytes: bytes[split...])
        parsed += parseAll(&parser, &second)
        #expect(second.readableBytes == 0)
        #expect(
            parsed.filter { if case .partial = $0 { false } else { true } }
                == [.frame(frame(.text, "hi")), .frame(frame(.binary, [UInt8](repeating: 9, count: 70_000))), .frame(frame(.text, "after"))])
    }

    // MARK: Masking direction (§5.1)

    @Test("§5.1: a server closes with 1002 on an unmasked frame from a client")
    func serverRequiresMask() {
        #expect(parseError(rawFrame(opcode: 1, payload: Array("hi".utf8)), role: .server)?.closeCode == .protocolError)
        #expect(parseError(rawFrame(opcode: 9, payload: []), role: .server)?.closeCode == .protocolError)
    }

    @Test("§5.1: a client closes with 1002 on a masked frame from a server")
    func clientRequiresNoMask() {
        #expect(parseError(rawFrame(opcode: 1, payload: Array("hi".utf8), mask: testKey), role: .client)?.closeCode == .protocolError)
    }

    @Test("§5.3, §5.7: the RFC's masked \"Hello\" example is unmasked")
    func rfcMaskedExample() {
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        #expect(parseFrames(bytes, role: .server).frames == [frame(.text, "Hello")])
        let unmasked: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        #expect(parseFrames(unmasked, role: .client).frames == [frame(.text, "Hello")])
    }

    // MARK: Opcodes and reserved bits (§5.2)

    @Test("§5.2: reserved opcode closes with 1002", arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func reservedOpcode(opcode: UInt8) {
        #expect(parseError(rawFrame(opcode: opcode, payload: [], mask: testKey))?.closeCode == .protocolError)
        #expect(parseError(rawFrame(opcode: opcode, payload: []), role: .client)?.closeCode == .protocolError)
    }

    @Test("§5.2: each defined opcode is accepted", arguments: [UInt8(0), 1, 2, 8, 9, 0xA])
    func definedOpcode(opcode: UInt8) {
        let parsed = parseFrames(rawFrame(opcode: opcode, payload: [], mask: testKey), role: .server)
        #expect(parsed.error == nil)
        #expect(parsed.frames.first?.opcode.rawValue == opcode)
    }

    @Test("§5.2: a set RSV bit closes with 1002 when no extension claims it", arguments: [UInt8(0x40), 0x20, 0x10, 0x70])
    func reservedBitsRefused(rsv: UInt8) {
        #expect(parseError(rawFrame(rsv: rsv, opcode: 1, payload: [], mask: testKey))?.closeCode == .protocolError)
    }

    @Test("§5.2, §9: an RSV bit a negotiated extension claims is accepted and reported; the others still close with 1002")
    func reservedBitsAllowed() {
        let parsed = parseFrames(rawFrame(rsv: 0x40, opcode: 2, payload: [1], mask: testKey), role: .server, allowed: .rsv1)
        #expect(parsed.error == nil)
        #expect(parsed.frames.first?.reservedBits == .rsv1)
        #expect(parseError(rawFrame(rsv: 0x20, opcode: 2, payload: [1], mask: testKey), allowed: .rsv1)?.closeCode == .protocolError)
        #expect(parseError(rawFrame(rsv: 0x50, opcode: 2, payload: [1], mask: testKey), allowed: .rsv1)?.closeCode == .protocolError)
    }

    // MARK: Control frames (§5.5)

    @Test("§5.5: a control frame with a payload over 125 bytes closes with 1002", arguments: [UInt8(8), 9, 0xA])
    func controlFrameTooLong(opcode: UInt8) {
        #expect(parseError(rawFrame(opcode: opcode, payload: [UInt8](repeating: 0, count: 126), mask: testKey))?.closeCode == .protocolError)
        // Refused from the header alone, before the payload arrives.
        #expect(parseError([0x80 | opcode, 0x80 | 126, 0, 126])?.closeCode == .protocolError)
    }

    @Test("§5.5: a control frame of exactly 125 bytes is accepted", arguments: [UInt8(9), 0xA])
    func controlFrame125(opcode: UInt8) {
        let parsed = parseFrames(rawFrame(opcode: opcode, payload: [UInt8](repeating: 0x61, count: 125), mask: testKey), role: .server)
        #expect(parsed.error == nil)
        #expect(parsed.frames.first?.payload.readableBytes == 125)
    }

    @Test("§5.5: a fragmented control frame (FIN clear) closes with 1002", arguments: [UInt8(8), 9, 0xA])
    func fragmentedControlFrame(opcode: UInt8) {
        #expect(parseError(rawFrame(fin: false, opcode: opcode, payload: [], mask: testKey))?.closeCode == .protocolError)
    }

    // MARK: Limits

    @Test("§7.4.1: a frame over maxFrameSize closes with 1009, as soon as the header is read")
    func frameTooBig() {
        // Header only: the announced 101 bytes never need to arrive.
        #expect(parseError([0x82, 0x80 | 101, 1, 2, 3, 4], maxFrameSize: 100)?.closeCode == .messageTooBig)
        #expect(parseError(rawFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 100), mask: testKey), maxFrameSize: 100) == nil)
        #expect(
            parseError(rawFrame(opcode: 2, payload: [UInt8](repeating: 0, count: 70000), mask: testKey), maxFrameSize: 65536)?.closeCode
                == .messageTooBig)
    }

    // MARK: Incremental input

    /// A stream with every length form, masked, and control frames in between.
    static func mixedStream() -> (bytes: [UInt8], frames: [WireFrame]) {
        var rng = SeededRandom(seed: 42)
        let specs: [(WireOpcode, [UInt8], Bool)] = [
            (.text, Array("Hello, wörld".utf8), false),
            (.ping, Array("are you there".utf8), true),
            (.continuation, Array(" — and more".utf8), true),
            (.binary, randomBytes(300, using: &rng), true),
            (.binary, [], true),
            (.binary, randomBytes(70_000, using: &rng), true),
            (.pong, [], true),
            (.close, closePayload(1000, "bye"), true),
        ]
        var bytes: [UInt8] = []
        var frames: [WireFrame] = []
        for (i, (opcode, payload, fin)) in specs.enumerated() {
            let key = WireMaskingKey(UInt8(i), 0xA5, UInt8(i * 7 & 0xFF), 0x3C)
            bytes += rawFrame(fin: fin, opcode: opcode.rawValue, payload: payload, mask: key)
            frames.append(frame(opcode, payload, fin: fin))
        }
        return (bytes, frames)
    }

    @Test("§5.2: feeding a byte at a time produces the same frames as feeding all at once")
    func byteAtATime() {
        let (bytes, expected) = Self.mixedStream()
        #expect(parseFrames(bytes, role: .server).frames == expected)

        var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)
        var buffer = ByteBuffer()
        var frames: [WireFrame] = []
        var partialBytes: [UInt8] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            for result in parseAll(&parser, &buffer) {
                switch result {
                case .frame(let f):
                    // The partial pieces reported for this frame add up to a prefix of its payload.
                    #expect(Array(f.payload.bytes.prefix(partialBytes.count)) == partialBytes)
                    partialBytes = []
                    frames.append(f)
                case .partial(_, let new): partialBytes += new
                case .error(let e): Issue.record("unexpected error \(e)")
                case .needMoreData: break
                }
            }
        }
        #expect(frames == expected)
        #expect(buffer.readableBytes == 0)
    }

    @Test("§5.2: feeding in random chunks produces the same frames")
    func randomChunks() {
        let (bytes, expected) = Self.mixedStream()
        var rng = SeededRandom(seed: 7)
        for _ in 0..<20 {
            var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)
            var buffer = ByteBuffer()
            var frames: [WireFrame] = []
            var i = 0
            while i < bytes.count {
                let n = min(bytes.count - i, Int.random(in: 1...4000, using: &rng))
                buffer.writeBytes(bytes[i..<i + n])
                i += n
                for case .frame(let f) in parseAll(&parser, &buffer) { frames.append(f) }
                #expect(buffer.readableBytes == 0, "the parser takes every byte it is given")
            }
            #expect(frames == expected)
        }
    }

    @Test("§5.2: an incomplete payload yields .partial with the header and the new bytes, unmasked")
    func partialResults() {
        let payload = Array("0123456789".utf8)
        let bytes = rawFrame(fin: false, opcode: 1, payload: payload, mask: testKey)
        var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)

        /// Checks that `results` is one `.partial` for this frame carrying `expected`.
        func expectPartial(_ results: [Parsed], _ expected: ArraySlice<UInt8>, sourceLocation: SourceLocation = #_sourceLocation) {
            guard results.count == 1, case .partial(let header, let new) = results[0] else {
                Issue.record("expected one .partial, got \(results)", sourceLocation: sourceLocation)
                return
            }
            #expect(header.fin == false && header.opcode == .text && header.payloadLength == 10, sourceLocation: sourceLocation)
            #expect(header.maskingKey == testKey && header.reservedBits == [], sourceLocation: sourceLocation)
            #expect(new == Array(expected), sourceLocation: sourceLocation)
        }

        var buffer = ByteBuffer(bytes: bytes[0..<1])
        #expect(parseAll(&parser, &buffer) == [])  // not even a header yet
        buffer.writeBytes(bytes[1..<6])  // the header: 2 bytes + key
        #expect(parseAll(&parser, &buffer) == [])  // header consumed, no payload yet
        buffer.writeBytes(bytes[6..<10])  // 4 payload bytes
        expectPartial(parseAll(&parser, &buffer), payload[0..<4])
        #expect(parseAll(&parser, &buffer) == [])  // nothing new: no repeated partial
        buffer.writeBytes(bytes[10..<13])
        expectPartial(parseAll(&parser, &buffer), payload[4..<7])
        buffer.writeBytes(bytes[13...])
        #expect(parseAll(&parser, &buffer) == [.frame(frame(.text, payload, fin: false))])
    }

    @Test("§5.2: several frames in one buffer come out in order, and a following partial frame completes with the next bytes")
    func severalFramesInOneBuffer() {
        let a = clientFrame(.text, "one")
        let b = clientFrame(.binary, [1, 2, 3])
        let c = clientFrame(.text, "three")
        var parser = FrameParser(role: .server, maxFrameSize: 1 << 20)
        var buffer = ByteBuffer(bytes: a + b + c.prefix(4))
        #expect(parseAll(&parser, &buffer) == [.frame(frame(.text, "one")), .frame(frame(.binary, [1, 2, 3]))])
        buffer.writeBytes(c.dropFirst(4))
        #expect(parseAll(&parser, &buffer) == [.frame(frame(.text, "three"))])
    }
}
