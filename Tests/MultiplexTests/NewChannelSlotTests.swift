import NIOCore
import Testing

@testable import Multiplex

@Suite("NewChannelSlot (control opcode 4)")
struct NewChannelSlotTests {
    @Test("encodes like mod_pywebsocket's mux._create_new_channel_slot and _create_fallback_new_channel_slot")
    func encode() {
        for g in Golden.newChannelSlots {
            #expect(hex(.newChannelSlot(MuxNewChannelSlot(slots: g.slots, initialQuota: g.quota))) == g.hex)
        }
        #expect(hex(.newChannelSlot(.fallback)) == Golden.fallbackNewChannelSlot)
    }

    @Test("decodes mod_pywebsocket's bytes")
    func decode() throws {
        for g in Golden.newChannelSlots {
            #expect(try decodeBlock(hex: g.hex) == .newChannelSlot(MuxNewChannelSlot(slots: g.slots, initialQuota: g.quota)))
        }
        let fallback = try decodeBlock(hex: Golden.fallbackNewChannelSlot)
        guard case .newChannelSlot(let block) = fallback else {
            Issue.record("not NewChannelSlot")
            return
        }
        #expect(block.fallback && block.slots == 0 && block.initialQuota == 0)
    }

    @Test("round trip")
    func roundTrip() throws {
        for slots in [0, 1, 64, 125, 126, 65536, Int.max] {
            for quota in [0, 8192, 1 << 33, Int.max] {
                let block = MuxControlBlock.newChannelSlot(MuxNewChannelSlot(slots: slots, initialQuota: quota))
                #expect(try decodeBlock(hex: hex(block)) == block)
            }
        }
    }

    @Test("every strict prefix is 2005")
    func truncated() {
        for text in Golden.newChannelSlots.map(\.hex) + [Golden.fallbackNewChannelSlot] {
            for prefix in strictPrefixes(hex: text) {
                #expect(dropCode(controlPayload: prefix) == .invalidMuxControlBlock, "\(prefix)")
            }
        }
    }

    @Test("reserved bits are 2005", arguments: [0x02, 0x04, 0x08, 0x10, 0x1E] as [UInt8])
    func reservedBits(_ bits: UInt8) {
        #expect(dropCode(controlPayload: settingBits(bits, inFirstByteOf: "80407e2000")) == .invalidMuxControlBlock)
    }

    @Test("a fallback block with slots or quota is 2005", arguments: ["810100", "810001", "81407e2000"])
    func fallbackWithNumbers(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }

    @Test("bad numbers are 2005", arguments: ["807e004000", "80ff00", "80007f0000000000000001"])
    func badNumbers(_ text: String) {
        #expect(dropCode(controlPayload: text) == .invalidMuxControlBlock)
    }
}
