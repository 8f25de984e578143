import NIOCore
import PerMessageDeflate
import SwitchboardCore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Peak resident memory of this process so far, in bytes.
private func peakRSS() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    #if canImport(Darwin)
        return Int(usage.ru_maxrss)  // bytes on Darwin
    #else
        return Int(usage.ru_maxrss) * 1024  // KiB on Linux
    #endif
}

private let sizes = [0, 1, 10, 63, 64, 65, 1000, 4096, 65536, 1 << 20]

@Suite("permessage-deflate through WebSocketEngine (RFC 7692 §6, §7.2)")
struct CodecTests {
    // MARK: Round trips

    @Test(
        "§7.2: messages of 0 B to 1 MiB arrive intact both ways, compressible or not",
        arguments: sizes, [WebSocketMessage.Kind.text, .binary])
    func roundTrip(size: Int, kind: WebSocketMessage.Kind) throws {
        var link = try Link()
        for (index, compressible) in [true, false].enumerated() {
            let seed = UInt64(size * 4 + index)
            let bytes =
                kind == .text
                ? textBytes(size, compressible: compressible, seed: seed)
                : compressible ? compressibleBytes(size, seed: seed) : incompressibleBytes(size, seed: seed)
            #expect(bytes.count == size)
            for from in [WebSocketRole.client, .server] {
                for _ in 0..<2 {  // the second time, with the first one's context
                    let delivery = try link.send(message(kind, bytes), from: from)
                    #expect(delivery.events == [event(kind, bytes)], "\(from) sent \(size) B \(kind) compressible=\(compressible)")
                    #expect(delivery.wire.count == 1)
                    let first = try #require(delivery.wire.first)
                    #expect(first.reservedBits == (size >= 64 ? .rsv1 : []), "threshold 64: RSV1 iff compressed")
                    if compressible && size >= 1000 { #expect(first.payload.readableBytes < size / 2) }
                    if first.reservedBits.contains(.rsv1) { #expect(!endsWithTail(first.payload)) }
                }
            }
        }
    }

    @Test("§7.2: messages keep flowing both ways, interleaved, over many messages")
    func manyMessages() throws {
        var link = try Link(
            server: PerMessageDeflate(configuration: .init(maxWindowBits: 9)),
            client: PerMessageDeflate(configuration: .init(maxWindowBits: 15, peerMaxWindowBits: 9)))
        #expect(link.response.description == "permessage-deflate; server_max_window_bits=9; client_max_window_bits=12")
        for i in 0..<200 {
            let bytes = compressibleBytes(100 + i * 37, seed: UInt64(i))
            let kind: WebSocketMessage.Kind = i % 3 == 0 ? .binary : .text
            #expect(try link.send(message(kind, bytes), from: i % 2 == 0 ? .client : .server).events == [event(kind, bytes)])
        }
    }

    // MARK: Fragmentation (§6.1, §7.2.1)

    @Test(
        "§6.1: RSV1 only on the first frame of a fragmented message; fragments form one DEFLATE stream",
        arguments: [WebSocketRole.client, .server], [true, false])
    func fragmented(from role: WebSocketRole, compressible: Bool) throws {
        var link = try Link()
        link.client.maxOutgoingFrameSize = 4096
        link.server.maxOutgoingFrameSize = 4096
        for kind in [WebSocketMessage.Kind.binary, .text] {
            let bytes =
                kind == .text
                ? textBytes(100_000, compressible: compressible, seed: 7)
                : compressible ? compressibleBytes(100_000, seed: 7) : incompressibleBytes(100_000, seed: 7)
            let delivery = try link.send(message(kind, bytes), from: role)
            #expect(delivery.events == [event(kind, bytes)])
            #expect(delivery.wire.count == 25)  // 100,000 B in frames of at most 4096 B of input
            #expect(delivery.wire.first?.opcode == (kind == .text ? .text : .binary))
            #expect(delivery.wire.first?.reservedBits == .rsv1)
            #expect(delivery.wire.dropFirst().allSatisfy { $0.opcode == .continuation && $0.reservedBits == [] })
            #expect(delivery.wire.dropLast().allSatisfy { !$0.fin })
            #expect(delivery.wire.last?.fin == true)
            if compressible {
                #expect(delivery.wireBytes < bytes.count / 2)
            }
        }
    }

    @Test("§6.1: a fragmented message below the threshold is compressed all the same (its size is not known up front)")
    func fragmentedSmall() throws {
        var link = try Link()
        link.client.maxOutgoingFrameSize = 4
        let bytes = Array("tiny message".utf8)
        let delivery = try link.send(message(.text, bytes), from: .client)
        #expect(delivery.events == [.text(bytes)])
        #expect(delivery.wire.count == 3)
        #expect(delivery.wire.map(\.reservedBits) == [.rsv1, [], []])
    }

    @Test("§5.4 (RFC 6455), §6.1: a ping between the fragments of a compressed message passes uncompressed")
    func pingBetweenCompressedFragments() throws {
        var link = try Link()
        link.client.maxOutgoingFrameSize = 1000
        let bytes = incompressibleBytes(3000, seed: 3)
        try link.client.send(message(.binary, bytes))
        var frames = wireFrames(try outbound(&link.client), sentBy: .client)
        #expect(frames.count == 3)
        let pingPayload = Array(repeating: UInt8(ascii: "p"), count: 100)
        frames.insert(WireFrame(opcode: .ping, payload: ByteBuffer(bytes: pingPayload)), at: 1)
        #expect(deliver(clientWire(frames), to: &link.server) == [.ping(pingPayload), .binary(bytes)])
        let pong = wireFrames(try outbound(&link.server), sentBy: .server)
        #expect(pong.map(\.opcode) == [.pong])
        #expect(pong.first?.reservedBits == [])
        #expect(pong.first?.payload.bytes == pingPayload)
    }

    // MARK: Control frames (§6.1)

    @Test("§6.1: control frames are never compressed: ping, pong and close cross the wire as they are")
    func controlFramesUncompressed() throws {
        var link = try Link()
        let payload = Array(repeating: UInt8(ascii: "a"), count: 125)  // compressible, above the threshold
        try link.client.ping(ByteBuffer(bytes: payload))
        var delivery = link.clientToServer()
        #expect(delivery.wire.map(\.opcode) == [.ping])
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.wire.first?.payload.bytes == payload)
        #expect(delivery.events == [.ping(payload)])

        delivery = link.serverToClient()  // the automatic pong
        #expect(delivery.wire.map(\.opcode) == [.pong])
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.events == [.pong(payload)])

        try link.server.pong(ByteBuffer(bytes: payload))
        delivery = link.serverToClient()
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.events == [.pong(payload)])

        let reason = String(repeating: "bye ", count: 30)
        let started = link.client.close(code: .goingAway, reason: reason)
        #expect(started)
        delivery = link.clientToServer()
        #expect(delivery.wire.map(\.opcode) == [.close])
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.wire.first?.payload.bytes == [0x03, 0xE9] + Array(reason.utf8))
        #expect(delivery.events == [.closed(1001, reason)])
        let answered = link.server.close()  // the server answers, echoing 1001
        #expect(answered)
        delivery = link.serverToClient()
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.events == [.closed(1001, "")])
    }

    @Test("§6.1: RSV1 on a control frame closes with 1002", arguments: [WireOpcode.ping, .pong, .close])
    func rsv1OnControlFrame(opcode: WireOpcode) throws {
        var link = try Link()
        let payload = opcode == .close ? [0x03, 0xE8] : Array("x".utf8)
        let events = deliver(clientWire([WireFrame(reservedBits: .rsv1, opcode: opcode, payload: ByteBuffer(bytes: payload))]), to: &link.server)
        #expect(events == [.failed(1002)])
    }

    @Test("§6.1: RSV1 on a continuation frame closes with 1002")
    func rsv1OnContinuation() throws {
        // After an uncompressed first frame...
        var link = try Link()
        var events = deliver(
            clientWire([
                WireFrame(fin: false, opcode: .text, payload: ByteBuffer(string: "abc")),
                WireFrame(fin: true, reservedBits: .rsv1, opcode: .continuation, payload: ByteBuffer(string: "def")),
            ]), to: &link.server)
        #expect(events == [.failed(1002)])

        // ... and after a compressed one.
        link = try Link()
        link.client.maxOutgoingFrameSize = 100
        try link.client.send(message(.binary, incompressibleBytes(300, seed: 1)))
        var frames = wireFrames(try outbound(&link.client), sentBy: .client)
        #expect(frames.first?.reservedBits == .rsv1)
        frames[1].reservedBits = .rsv1
        events = deliver(clientWire(frames), to: &link.server)
        #expect(events == [.failed(1002)])
    }

    @Test("§6: RSV2 and RSV3 are not deflate's: they close with 1002")
    func otherReservedBits() throws {
        for bit in [WireFrame.ReservedBits.rsv2, .rsv3] {
            var link = try Link()
            let events = deliver(clientWire([WireFrame(reservedBits: bit, opcode: .text, payload: ByteBuffer(string: "x"))]), to: &link.server)
            #expect(events == [.failed(1002)])
        }
    }

    // MARK: Context takeover (§7.1.1)

    @Test(
        "§7.1.1: with context takeover a repeated message costs a fraction; without, it costs the same", arguments: [WebSocketRole.client, .server])
    func contextTakeover(from role: WebSocketRole) throws {
        let bytes = compressibleBytes(300, seed: 11) + incompressibleBytes(1700, seed: 12)  // 2 KiB, mostly random

        var keeping = try Link()
        let first = try keeping.send(message(.binary, bytes), from: role)
        let second = try keeping.send(message(.binary, bytes), from: role)
        #expect(first.events == [.binary(bytes)] && second.events == [.binary(bytes)])
        #expect(first.wireBytes > 1500)
        #expect(second.wireBytes * 10 < first.wireBytes, "second: \(second.wireBytes) B, first: \(first.wireBytes) B")

        // client_no_context_takeover from the client's own configuration, server_no_context_takeover asked by the client.
        var forgetting = try Link(client: PerMessageDeflate(configuration: .init(noContextTakeover: true, requestPeerNoContextTakeover: true)))
        #expect(forgetting.response.description.contains("server_no_context_takeover"))
        let first2 = try forgetting.send(message(.binary, bytes), from: role)
        let second2 = try forgetting.send(message(.binary, bytes), from: role)
        #expect(first2.events == [.binary(bytes)] && second2.events == [.binary(bytes)])
        #expect(first2.wire.first?.payload == second2.wire.first?.payload, "a fresh stream every message: the same bytes")
    }

    @Test(
        "§7.2.1: an idle connection frees its compressor; with context takeover the peer still reads what follows, and later messages use history again",
        arguments: [WebSocketRole.client, .server])
    func idleReleaseKeepsTheStreamValid(from role: WebSocketRole) throws {
        let bytes = compressibleBytes(300, seed: 21) + incompressibleBytes(1700, seed: 22)
        var link = try Link()
        let first = try link.send(message(.binary, bytes), from: role)
        link.client.releaseIdleMemory()
        link.server.releaseIdleMemory()
        let afterRelease = try link.send(message(.binary, bytes), from: role)  // no history: as long as the first
        let third = try link.send(message(.binary, bytes), from: role)  // history again
        #expect(first.events == [.binary(bytes)] && afterRelease.events == [.binary(bytes)] && third.events == [.binary(bytes)])
        #expect(afterRelease.wire.first?.payload == first.wire.first?.payload, "a fresh stream: the first message's bytes again")
        #expect(third.wireBytes * 10 < first.wireBytes, "third: \(third.wireBytes) B, first: \(first.wireBytes) B")
    }

    @Test("§7.1.1.2: a server that asks for client_no_context_takeover gets it, and both ends forget between messages")
    func serverAsksClientNoContextTakeover() throws {
        var link = try Link(server: PerMessageDeflate(configuration: .init(noContextTakeover: true, requestPeerNoContextTakeover: true)))
        #expect(
            link.response.description
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12")
        let bytes = compressibleBytes(5000, seed: 5)
        for role in [WebSocketRole.client, .server, .client, .server] {
            let a = try link.send(message(.text, bytes), from: role)
            let b = try link.send(message(.text, bytes), from: role)
            #expect(a.events == [.text(bytes)] && b.events == [.text(bytes)])
            #expect(a.wire.first?.payload == b.wire.first?.payload)
        }
    }

    // MARK: The wire format (§7.2.1, §7.2.3)

    @Test("§7.2.1: the 00 00 FF FF tail of the sync flush is removed on the wire, and restored on receipt")
    func tailRemoved() throws {
        var link = try Link()
        // zlib 1.2.13, raw deflate, level 6, window 12, memory level 5 (our defaults), one
        // deflate(Z_SYNC_FLUSH) call on 100 × "a": 4A 4C A4 3D 00 00 | 00 00 FF FF.
        let bytes = Array(repeating: UInt8(ascii: "a"), count: 100)
        for role in [WebSocketRole.client, .server] {
            var fresh = try Link()
            let delivery = try fresh.send(message(.text, bytes), from: role)
            #expect(delivery.wire.first?.payload.bytes == [0x4A, 0x4C, 0xA4, 0x3D, 0x00, 0x00])
            #expect(delivery.events == [.text(bytes)])
        }
        // And never a tail, whatever the payload.
        for i in 0..<50 {
            let payload = i % 2 == 0 ? compressibleBytes(64 + i * 97, seed: UInt64(i)) : incompressibleBytes(64 + i * 97, seed: UInt64(i))
            let delivery = try link.send(message(.binary, payload), from: i % 4 < 2 ? .client : .server)
            #expect(delivery.events == [.binary(payload)])
            #expect(delivery.wire.allSatisfy { !endsWithTail($0.payload) })
        }
    }

    @Test("§7.2.3.1: a hand-made message is inflated: \"Hello\" compressed as in the RFC's example")
    func rfcExample() throws {
        var link = try Link()
        // RFC 7692 §7.2.3.1: 0xc1 0x07 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00 is "Hello", compressed.
        let hello: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]
        var events = deliver(serverWire([WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: hello))]), to: &link.client)
        #expect(events == [.text(Array("Hello".utf8))])
        // §7.2.3.1, the same message in two fragments: 0x41 0x03 0xf2 0x48 0xcd, 0x80 0x04 0xc9 0xc9 0x07 0x00.
        events = deliver(
            serverWire([
                WireFrame(fin: false, reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: [0xF2, 0x48, 0xCD])),
                WireFrame(fin: true, opcode: .continuation, payload: ByteBuffer(bytes: [0xC9, 0xC9, 0x07, 0x00])),
            ]), to: &link.client)
        #expect(events == [.text(Array("Hello".utf8))])
        // §7.2.3.2: the second "Hello" with context takeover refers to the first: 0xf2 0x00 0x11 0x00 0x00.
        events = deliver(
            serverWire([WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: [0xF2, 0x00, 0x11, 0x00, 0x00]))]),
            to: &link.client)
        #expect(events == [.text(Array("Hello".utf8))])
        // §7.2.3.3: "Hello" in a stored (uncompressed) DEFLATE block: 0x00 0x05 0x00 0xfa 0xff 0x48 0x65 0x6c 0x6c 0x6f 0x00.
        events = deliver(
            serverWire([
                WireFrame(
                    reservedBits: .rsv1, opcode: .text,
                    payload: ByteBuffer(bytes: [0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]))
            ]), to: &link.client)
        #expect(events == [.text(Array("Hello".utf8))])
    }

    @Test("§7.2.3.4: a message made of a DEFLATE block with BFINAL set is inflated (KNOWN BUG: closes with 1007 today)")
    func finalBlock() throws {
        // RFC 7692 §7.2.3.4, verbatim: f3 48 cd c9 c9 07 00 is "Hello" in a block with BFINAL set;
        // the last 00 holds the header bits of an empty stored block (BFINAL 0, BTYPE 00) so that,
        // with 00 00 ff ff appended, the payload decompresses "in the same manner" as any other.
        let rfcPayload: [UInt8] = [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]
        var link = try Link()
        let events = deliver(
            serverWire([
                WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: rfcPayload)),
                WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])),
            ]), to: &link.client)
        #expect(events == [.text(Array("Hello".utf8)), .text(Array("Hello".utf8))])
    }

    @Test("§7.2.1: messages under the threshold (64 B by default) go out uncompressed, RSV1 clear", arguments: [0, 1, 10, 63])
    func belowThreshold(size: Int) throws {
        var link = try Link()
        let bytes = Array(repeating: UInt8(ascii: "z"), count: size)
        for role in [WebSocketRole.client, .server] {
            let delivery = try link.send(message(.text, bytes), from: role)
            #expect(delivery.wire.first?.reservedBits == [])
            #expect(delivery.wire.first?.payload.bytes == bytes)
            #expect(delivery.events == [.text(bytes)])
        }
    }

    @Test("§7.2.1: the threshold is configurable; at 0 even an empty message is compressed (00 00 00 FF FF less the tail: 00)")
    func thresholdZero() throws {
        var link = try Link(
            server: PerMessageDeflate(configuration: .init(compressionThreshold: 0)),
            client: PerMessageDeflate(configuration: .init(compressionThreshold: 0)))
        for role in [WebSocketRole.client, .server] {
            let delivery = try link.send(message(.binary, []), from: role)
            #expect(delivery.wire.first?.reservedBits == .rsv1)
            #expect(delivery.wire.first?.payload.bytes == [0x00])
            #expect(delivery.events == [.binary([])])
        }
        // And a large threshold leaves a 1000 B message as it is.
        var lazy = try Link(server: PerMessageDeflate(configuration: .init(compressionThreshold: 2000)))
        let bytes = compressibleBytes(1000, seed: 1)
        let delivery = try lazy.send(message(.binary, bytes), from: .server)
        #expect(delivery.wire.first?.reservedBits == [])
        #expect(delivery.events == [.binary(bytes)])
    }

    @Test("§6.2: an uncompressed message between compressed ones does not disturb the context")
    func mixedCompressedAndNot() throws {
        var link = try Link()
        let big = compressibleBytes(3000, seed: 2)  // under the 4 KiB window: the repeat can refer to it
        for role in [WebSocketRole.client, .server] {
            #expect(try link.send(message(.text, big), from: role).events == [.text(big)])
            #expect(try link.send(message(.text, Array("small".utf8)), from: role).events == [.text(Array("small".utf8))])
            let again = try link.send(message(.text, big), from: role)
            #expect(again.events == [.text(big)])
            #expect(again.wireBytes < 200)
        }
    }

    @Test("§7.2.2: bytes that are not DEFLATE close with 1007")
    func corruptData() throws {
        var link = try Link()
        // BTYPE 11 (reserved) is an error in any DEFLATE stream.
        let events = deliver(
            clientWire([WireFrame(reservedBits: .rsv1, opcode: .binary, payload: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF]))]), to: &link.server
        )
        #expect(events == [.failed(1007)])
    }

    @Test("§8.1 (RFC 6455): invalid UTF-8 inside a compressed text message closes with 1007")
    func invalidUTF8Compressed() throws {
        var link = try Link()
        // The client's extension compresses anything it is given; a binary message's bytes, sent as text by hand.
        try link.client.send(message(.binary, [0xC0, 0xAF] + compressibleBytes(200, seed: 9)))
        var frames = wireFrames(try outbound(&link.client), sentBy: .client)
        frames[0].opcode = .text
        #expect(deliver(clientWire(frames), to: &link.server) == [.failed(1007)])
    }

    // MARK: The decompression limit (issue 3: "stopped at the limit with close 1009, never fully inflated")

    /// The compressed payload (tail removed) of `count` zero bytes, made by a fresh client:
    /// a stream that starts from an empty window, so copies of it can be chained.
    private func zerosDeflated(_ count: Int) throws -> [UInt8] {
        var link = try Link(
            serverLimits: WebSocketLimits(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20),
            clientLimits: WebSocketLimits(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20))
        try link.client.send(message(.binary, [UInt8](repeating: 0, count: count)))
        let frames = wireFrames(try outbound(&link.client), sentBy: .client)
        #expect(frames.count == 1 && frames[0].reservedBits == .rsv1)
        return frames[0].payload.bytes
    }

    @Test("bomb: ~1 KiB of DEFLATE that inflates to 1 MiB, past a 64 KiB limit, closes with 1009")
    func smallBomb() throws {
        let payload = try zerosDeflated(1 << 20)
        #expect(payload.count < 1200, "1 MiB of zeros deflates to about 1 KiB (\(payload.count) B)")
        var link = try Link(server: PerMessageDeflate(configuration: .init(maxDecompressedMessageSize: 64 << 10)))
        let events = deliver(
            clientWire([WireFrame(reservedBits: .rsv1, opcode: .binary, payload: ByteBuffer(bytes: payload))]), to: &link.server)
        #expect(events == [.failed(1009)])
        #expect(link.server.failure?.closeCode == .messageTooBig)
        let closing = link.server.close(code: .messageTooBig)
        #expect(closing)
        let close = wireFrames(try outbound(&link.server), sentBy: .server)
        #expect(close.map(\.opcode) == [.close] && close.first?.payload.bytes.prefix(2) == [0x03, 0xF1])
    }

    @Test("bomb: the limit is exact: a message of exactly the limit passes, one byte more closes with 1009")
    func limitIsExact() throws {
        let limit = 64 << 10
        for (size, expected) in [(limit, Event.binary([UInt8](repeating: 0, count: limit))), (limit + 1, .failed(1009))] {
            var link = try Link(server: PerMessageDeflate(configuration: .init(maxDecompressedMessageSize: limit)))
            #expect(try link.send(message(.binary, [UInt8](repeating: 0, count: size)), from: .client).events == [expected])
        }
    }

    @Test("bomb: the limit counts the whole message across fragments")
    func fragmentedBomb() throws {
        var link = try Link(server: PerMessageDeflate(configuration: .init(maxDecompressedMessageSize: 64 << 10)))
        link.client.maxOutgoingFrameSize = 8 << 10  // each fragment inflates to 8 KiB, under the limit alone
        let delivery = try link.send(message(.binary, [UInt8](repeating: 0, count: 200 << 10)), from: .client)
        #expect(delivery.wire.count == 25)
        #expect(delivery.events == [.failed(1009)])
    }

    @Test(
        "bomb: 1 MiB of DEFLATE that would inflate to 1 GiB stops at the 1 MiB limit, quickly and without the gigabyte",
        .timeLimit(.minutes(1)))
    func gigabyteBomb() throws {
        // 1024 copies of "1 MiB of zeros, deflated", each closed with its sync-flush tail so that
        // the next starts on a byte boundary: one valid stream of 1 GiB of zeros (the last tail is
        // removed, as on the wire). About 1 KiB × 1024 ≈ 1 MiB on the wire.
        let chunk = try zerosDeflated(1 << 20) + deflateTail
        var bomb = [UInt8]()
        bomb.reserveCapacity(chunk.count * 1024)
        for _ in 0..<1024 { bomb += chunk }
        bomb.removeLast(4)
        // Frame and message limits far above: only permessage-deflate's limit (default 1 MiB) applies.
        var link = try Link(serverLimits: WebSocketLimits(maxFrameSize: 64 << 20, maxMessageSize: Int(Int32.max)))
        let wire = clientWire([WireFrame(reservedBits: .rsv1, opcode: .binary, payload: ByteBuffer(bytes: bomb))])

        let rssBefore = peakRSS()
        let clock = ContinuousClock()
        var events: [Event] = []
        let elapsed = clock.measure { events = deliver(wire, to: &link.server) }
        let grown = peakRSS() - rssBefore
        #expect(events == [.failed(1009)])
        #expect(elapsed < .seconds(5), "took \(elapsed)")
        // Inflating it in full would need a gigabyte; the limit holds it to about 1 MiB of output.
        #expect(grown < 256 << 20, "peak RSS grew by \(grown >> 20) MiB")
    }

    // MARK: Window 8 (§7.1.2.2; zlib inflates with an 8-bit window but cannot compress with one)

    /// A DEFLATE stream valid for an 8-bit (256 B) window, made by hand: zlib cannot compress
    /// with 8 bits, but a stream made with its smallest window (9 bits, 512 B) of a message
    /// shorter than 256 B cannot refer further back than 255 B, so any inflater with a 256 B
    /// window decodes it. Made with Python's zlib:
    ///
    ///     c = zlib.compressobj(9, zlib.DEFLATED, -9, 1)
    ///     c.compress(b"window-8 " + b"abcdefgh" * 24) + c.flush(zlib.Z_SYNC_FLUSH)   # tail removed below
    private let window8Message = Array("window-8 ".utf8) + Array(repeating: Array("abcdefgh".utf8), count: 24).flatMap { $0 }
    private let window8Deflated: [UInt8] = [
        0x2A, 0xCF, 0xCC, 0x4B, 0xC9, 0x2F, 0xD7, 0xB5, 0x50, 0x48, 0x4C, 0x4A, 0x4E, 0x49, 0x4D, 0x4B,
        0xCF, 0x18, 0xAA, 0x34, 0x00,  // 00 00 FF FF removed
    ]

    @Test("§7.1.2.2: window 8: a client offered client_max_window_bits, the server (peerMaxWindowBits 8) answers 8 and inflates with 8")
    func window8Server() throws {
        let factory = PerMessageDeflate(configuration: .init(peerMaxWindowBits: 8))
        let (response, serverExtension) = try #require(factory.serverAccept(try elements("permessage-deflate; client_max_window_bits")))
        #expect(response.description == "permessage-deflate; client_max_window_bits=8")
        var server = WebSocketEngine(role: .server, extensions: [serverExtension])

        // The hand-made stream, twice (context takeover: the second message starts with a window holding the first).
        #expect(window8Message.count == 201)
        let frame = WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: window8Deflated))
        #expect(deliver(clientWire([frame, frame]), to: &server) == [.text(window8Message), .text(window8Message)])

        // And what our own compressor sends with its smallest window (9), without context takeover,
        // for messages under 256 B: valid for the 8-bit window for the same reason.
        let client = PerMessageDeflate(configuration: .init(maxWindowBits: 9, peerMaxWindowBits: 15, noContextTakeover: true))
        let clientExtension = try client.clientAccept(try element("permessage-deflate; client_max_window_bits=9"))
        var link = Link(
            client: WebSocketEngine(role: .client, extensions: [clientExtension]), server: server,
            offer: "permessage-deflate; client_max_window_bits", response: response)
        for i in 0..<20 {
            let bytes = i % 2 == 0 ? compressibleBytes(64 + i * 9, seed: UInt64(i)) : incompressibleBytes(64 + i * 9, seed: UInt64(i))
            let delivery = try link.send(message(.binary, bytes), from: .client)
            #expect(delivery.wire.first?.reservedBits == .rsv1)
            #expect(delivery.events == [.binary(bytes)])
        }
    }

    @Test("§7.1.2.1: window 8 the other way: a client that offered server_max_window_bits=8 inflates the server's window-8 stream")
    func window8Client() throws {
        let factory = PerMessageDeflate(configuration: .init(peerMaxWindowBits: 8))
        #expect(ExtensionNegotiation.clientOfferHeader([factory]) == "permessage-deflate; server_max_window_bits=8; client_max_window_bits")
        let clientExtension = try factory.clientAccept(try element("permessage-deflate; server_max_window_bits=8"))
        var client = WebSocketEngine(role: .client, extensions: [clientExtension])
        let frame = WireFrame(reservedBits: .rsv1, opcode: .text, payload: ByteBuffer(bytes: window8Deflated))
        #expect(deliver(serverWire([frame, frame]), to: &client) == [.text(window8Message), .text(window8Message)])
    }

    @Test(
        "§7.1.2.2: our server never compresses with more than the window the client allowed",
        arguments: 9...15)
    func serverHonoursClientLimit(bits: Int) throws {
        // A client whose inflater has exactly `bits`: if the server used a larger window, a long-distance
        // back-reference into an earlier message would fail with "invalid distance too far back".
        let serverFactory = PerMessageDeflate(configuration: .init(maxWindowBits: 15))
        let clientFactory = PerMessageDeflate(configuration: .init(peerMaxWindowBits: bits))
        var link = try Link(server: serverFactory, client: clientFactory)
        #expect(
            link.response.description
                == (bits < 15
                    ? "permessage-deflate; server_max_window_bits=\(bits); client_max_window_bits=12"
                    : "permessage-deflate; client_max_window_bits=12"))
        let block = incompressibleBytes(20_000, seed: UInt64(bits))
        for _ in 0..<3 {
            #expect(try link.send(message(.binary, block), from: .server).events == [.binary(block)])
        }
    }
}
