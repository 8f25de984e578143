import NIOCore
import Testing

@testable import Multiplex

@Suite("Control channel payloads: blocks back to back")
struct ControlBlockSequenceTests {
    @Test("several blocks in one payload, each decoded in order")
    func several() throws {
        let blocks: [MuxControlBlock] = [
            .newChannelSlot(MuxNewChannelSlot(slots: 64, initialQuota: 8192)),
            .flowControl(MuxFlowControl(channel: .implicit, quota: 8192)),
            .addChannelResponse(MuxAddChannelResponse(channel: 2, handshake: Golden.accepted)),
            .dropChannel(MuxDropChannel(channel: 3, reason: .init(.sendQuotaViolation))),
            .addChannelRequest(MuxAddChannelRequest(channel: 4, encoding: .delta, handshake: Golden.requestDelta)),
        ]
        let message = MuxMessage.control(blocks)
        let payload = message.payload()
        #expect(payload.readableBytes == message.encodedLength)
        #expect(try MuxMessage(parsing: payload) == message)
        #expect(try MuxControlBlock.readAll(from: payload.getSlice(at: 1, length: payload.readableBytes - 1)!) == blocks)
    }

    // mod_pywebsocket's test_mux.py reads these four requests from one payload.
    @Test("AddChannelRequests with 1-, 3- and 9-byte sizes back to back")
    func sizes() throws {
        let text =
            "00010161" + "00027d" + String(repeating: "61", count: 0x7D)
            + "00037effff" + String(repeating: "62", count: 0xFFFF)
            + "00047f0000000000010000" + String(repeating: "63", count: 0x10000)
        let blocks = try MuxControlBlock.readAll(from: buffer(hex: text))
        #expect(blocks.map(\.encodedLength) == [4, 3 + 0x7D, 5 + 0xFFFF, 11 + 0x10000])
        #expect(blocks.map(\.opcode) == Array(repeating: .addChannelRequest, count: 4))
    }

    @Test("an empty payload holds no block")
    func empty() throws {
        #expect(try MuxControlBlock.readAll(from: ByteBuffer()) == [])
        #expect(try MuxMessage(parsing: buffer(hex: "00")) == .control([]))
    }

    @Test("opcodes 5, 6 and 7 are 2004", arguments: ["a0", "c0", "e0", "a00000", "ff"])
    func unknownOpcode(_ text: String) {
        #expect(dropCode(controlPayload: text) == .unknownMuxOpcode)
    }

    @Test("a good block followed by a bad one fails the whole payload")
    func badTail() {
        #expect(dropCode(controlPayload: "40017e2000" + "e0") == .unknownMuxOpcode)
        #expect(dropCode(controlPayload: "40017e2000" + "40") == .invalidMuxControlBlock)
        #expect(dropCode(controlPayload: "40017e2000" + "41017e2000") == .invalidMuxControlBlock)
    }
}
