import NIOCore
import SwitchboardCore
import Testing

@testable import Multiplex

@Suite("DropChannel (control opcode 3)")
struct DropChannelTests {
    private func block(_ channel: UInt32, _ code: UInt16?, _ message: String) -> MuxControlBlock {
        .dropChannel(MuxDropChannel(channel: MuxChannelID(channel)!, reason: code.map { .init(MuxDropCode($0), message: message) }))
    }

    @Test("encodes like mod_pywebsocket's mux._create_drop_channel")
    func encode() {
        for g in Golden.dropChannels {
            #expect(hex(block(g.channel, g.code, g.message)) == g.hex)
        }
    }

    @Test("decodes mod_pywebsocket's bytes")
    func decode() throws {
        for g in Golden.dropChannels {
            #expect(try decodeBlock(hex: g.hex) == block(g.channel, g.code, g.message))
        }
    }

    @Test("round trip, with UTF-8 and a reason longer than 125 bytes")
    func roundTrip() throws {
        for message in ["", "é", "日本語", String(repeating: "ü", count: 200)] {
            for channel: UInt32 in [0, 1, 2, 20000, 536_870_911] {
                let b = block(channel, 3009, message)
                #expect(try decodeBlock(hex: hex(b)) == b)
            }
        }
        #expect(try decodeBlock(hex: hex(block(9, nil, ""))) == block(9, nil, ""))
    }

    @Test("a wire error becomes a DropChannel on channel 0")
    func failing() throws {
        let drop = MuxDropChannel(failing: MuxWireError(.unknownMuxOpcode, "opcode 7"))
        #expect(drop.channel == .control)
        #expect(drop.reason == .init(.unknownMuxOpcode, message: "opcode 7"))
        #expect(hex(.dropChannel(drop)) == "60000a07d46f70636f64652037")
    }

    @Test("every strict prefix is 2005")
    func truncated() {
        for g in Golden.dropChannels {
            for prefix in strictPrefixes(hex: g.hex) {
                #expect(dropCode(controlPayload: prefix) == .invalidMuxControlBlock, "\(prefix)")
            }
        }
    }

    @Test("reserved bits are 2005", arguments: [0x01, 0x02, 0x04, 0x08, 0x10, 0x1F] as [UInt8])
    func reservedBits(_ bits: UInt8) {
        #expect(dropCode(controlPayload: settingBits(bits, inFirstByteOf: "6003070bbd71756f7461")) == .invalidMuxControlBlock)
    }

    @Test(
        "malformed reasons and channel IDs are 2005",
        arguments: [
            "60020103",  // one-byte reason (mod_pywebsocket refuses it too)
            "60020403e8ff",  // message not UTF-8
            "60020503e8c3a9c3",  // message cut inside a character
            "60027e000203e8",  // reason size 2 in 3 bytes
            "60020903e8",  // reason size beyond the end
            "6080020203e8",  // channel 2 in 2 bytes
        ])
    func malformed(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }
}
