import NIOCore
import Testing

@testable import Multiplex

@Suite("AddChannelResponse (control opcode 1)")
struct AddChannelResponseTests {
    @Test("encodes like mod_pywebsocket's mux._create_add_channel_response")
    func encode() throws {
        for g in Golden.addChannelResponses {
            let response = MuxAddChannelResponse(
                channel: try #require(MuxChannelID(g.channel)), rejected: g.rejected,
                encoding: g.delta ? .delta : .identity, handshake: g.handshake)
            #expect(hex(.addChannelResponse(response)) == g.hex, "channel \(g.channel)")
        }
    }

    @Test("decodes mod_pywebsocket's bytes")
    func decode() throws {
        for g in Golden.addChannelResponses {
            let block = try decodeBlock(hex: g.hex)
            guard case .addChannelResponse(let r) = block else {
                Issue.record("not AddChannelResponse: \(block)")
                continue
            }
            #expect(r.channel.rawValue == g.channel)
            #expect(r.rejected == g.rejected)
            #expect(r.encoding == (g.delta ? .delta : .identity))
            #expect(String(buffer: r.handshake) == g.handshake)
        }
    }

    @Test("round trip, accepted and rejected, every size-field length")
    func roundTrip() throws {
        for rejected in [false, true] {
            for size in [0, 125, 126, 65536] {
                for encoding in MuxHandshakeEncoding.allCases {
                    let block = MuxControlBlock.addChannelResponse(
                        MuxAddChannelResponse(
                            channel: 300, rejected: rejected, encoding: encoding, handshake: ByteBuffer(repeating: 0x62, count: size)))
                    #expect(try decodeBlock(hex: hex(block)) == block)
                }
            }
        }
    }

    @Test("every strict prefix is 2005")
    func truncated() {
        for g in Golden.addChannelResponses.prefix(3) {
            for prefix in strictPrefixes(hex: g.hex) {
                #expect(dropCode(controlPayload: prefix) == .invalidMuxControlBlock, "\(prefix)")
            }
        }
    }

    @Test("reserved bits are 2005", arguments: [0x04, 0x08, 0x0C] as [UInt8])
    func reservedBits(_ bits: UInt8) {
        #expect(dropCode(controlPayload: settingBits(bits, inFirstByteOf: "200203616263")) == .invalidMuxControlBlock)
    }

    @Test("handshake encodings 2 and 3 are 2012", arguments: ["220203616263", "330203616263"])
    func unknownEncoding(_ text: String) {
        #expect(dropCode(controlPayload: text) == .unknownResponseEncoding)
    }

    @Test(
        "malformed sizes and channel IDs are 2005",
        arguments: [
            "200003616263",  // the control channel gets no response
            "20027e0003616263",  // size 3 in 3 bytes
            "200204616263",  // size beyond the end
            "20c000020003616263",  // channel 2 in 3 bytes
        ])
    func malformed(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }
}
