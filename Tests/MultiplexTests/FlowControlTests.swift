import NIOCore
import Testing

@testable import Multiplex

@Suite("FlowControl (control opcode 2)")
struct FlowControlTests {
    @Test("encodes like mod_pywebsocket's mux._create_flow_control")
    func encode() throws {
        for g in Golden.flowControls {
            let block = MuxControlBlock.flowControl(MuxFlowControl(channel: try #require(MuxChannelID(g.channel)), quota: g.quota))
            #expect(hex(block) == g.hex, "FlowControl(\(g.channel), \(g.quota))")
        }
    }

    @Test("decodes mod_pywebsocket's bytes")
    func decode() throws {
        for g in Golden.flowControls {
            let block = try decodeBlock(hex: g.hex)
            guard case .flowControl(let f) = block else {
                Issue.record("not FlowControl: \(block)")
                continue
            }
            #expect(f.channel.rawValue == g.channel)
            #expect(f.quota == g.quota)
            #expect(block.opcode == .flowControl)
        }
    }

    @Test("round trip")
    func roundTrip() throws {
        for channel: UInt32 in [1, 127, 128, 16384, 536_870_911] {
            for quota in [0, 1, 125, 126, 65535, 65536, 1 << 40, Int.max] {
                let block = MuxControlBlock.flowControl(MuxFlowControl(channel: MuxChannelID(channel)!, quota: quota))
                #expect(try decodeBlock(hex: hex(block)) == block)
            }
        }
    }

    @Test("every strict prefix is 2005")
    func truncated() {
        for g in Golden.flowControls {
            for prefix in strictPrefixes(hex: g.hex) {
                #expect(dropCode(controlPayload: prefix) == .invalidMuxControlBlock, "\(prefix)")
            }
        }
    }

    @Test("reserved bits are 2005", arguments: [0x01, 0x02, 0x04, 0x08, 0x10, 0x1F] as [UInt8])
    func reservedBits(_ bits: UInt8) {
        #expect(dropCode(controlPayload: settingBits(bits, inFirstByteOf: "40017e2000")) == .invalidMuxControlBlock)
    }

    @Test(
        "bad numbers and bad channel IDs are 2005",
        arguments: [
            "40017e007d",  // 125 in 3 bytes
            "4001ff",  // quota with its top bit set
            "40017fffffffffffffffff",  // quota of 2^64 - 1
            "400000",  // the control channel has no quota
            "4080010a",  // channel 1 in 2 bytes
        ])
    func malformed(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }
}
