import NIOCore
import Testing

@testable import Multiplex

@Suite("AddChannelRequest (control opcode 0)")
struct AddChannelRequestTests {
    @Test("encodes like mod_pywebsocket's mux client (mc._create_add_channel_request)")
    func encode() throws {
        for g in Golden.addChannelRequests {
            let request = MuxAddChannelRequest(
                channel: try #require(MuxChannelID(g.channel)), encoding: g.delta ? .delta : .identity, handshake: g.handshake)
            #expect(hex(.addChannelRequest(request)) == g.hex, "channel \(g.channel)")
        }
    }

    @Test("decodes mod_pywebsocket's bytes; the handshake is a slice, not a copy")
    func decode() throws {
        for g in Golden.addChannelRequests {
            let block = try decodeBlock(hex: g.hex)
            guard case .addChannelRequest(let r) = block else {
                Issue.record("not AddChannelRequest: \(block)")
                continue
            }
            #expect(r.channel.rawValue == g.channel)
            #expect(r.encoding == (g.delta ? .delta : .identity))
            #expect(String(buffer: r.handshake) == g.handshake)
        }
    }

    @Test("round trip at every size-field length")
    func roundTrip() throws {
        for size in [0, 1, 125, 126, 65535, 65536, 70000] {
            for encoding in MuxHandshakeEncoding.allCases {
                let block = MuxControlBlock.addChannelRequest(
                    MuxAddChannelRequest(
                        channel: 2, encoding: encoding, handshake: ByteBuffer(repeating: 0x61, count: size)))
                #expect(try decodeBlock(hex: hex(block)) == block)
            }
        }
    }

    @Test("every strict prefix is 2005")
    func truncated() {
        for g in Golden.addChannelRequests.prefix(2) {
            for prefix in strictPrefixes(hex: g.hex) {
                #expect(dropCode(controlPayload: prefix) == .invalidMuxControlBlock, "\(prefix)")
            }
        }
    }

    @Test("reserved bits are 2005", arguments: [0x04, 0x08, 0x10, 0x1C] as [UInt8])
    func reservedBits(_ bits: UInt8) {
        #expect(dropCode(controlPayload: settingBits(bits, inFirstByteOf: "000203616263")) == .invalidMuxControlBlock)
    }

    @Test("handshake encodings 2 and 3 are 2010", arguments: ["020203616263", "030203616263"])
    func unknownEncoding(_ text: String) {
        #expect(dropCode(controlPayload: text) == .unknownRequestEncoding)
    }

    @Test("the control channel always exists: 2006")
    func controlChannel() {
        #expect(dropCode(controlPayload: "000003616263") == .channelAlreadyExists)
    }

    @Test(
        "malformed sizes and channel IDs are 2005",
        arguments: [
            "00027e0003616263",  // size 3 in 3 bytes
            "0002ff",  // size with its top bit set
            "000204616263",  // size beyond the end
            "00800203616263",  // channel 2 in 2 bytes
            "00e0",  // channel cut short
        ])
    func malformed(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }
}
