import NIOCore
import Testing

@testable import Multiplex

@Suite("Channel IDs: 1-4 byte encoding")
struct ChannelIDTests {
    @Test("encodes and decodes like mod_pywebsocket")
    func golden() throws {
        for (raw, expected) in Golden.channelIDs {
            let id = try #require(MuxChannelID(raw))
            var out = ByteBuffer()
            id.write(into: &out)
            #expect(hex(out) == expected, "channel \(raw)")
            #expect(id.encodedLength == out.readableBytes)
            var input = buffer(hex: expected)
            #expect(try MuxChannelID.read(from: &input, failing: .channelIDTruncated) == id)
            #expect(input.readableBytes == 0)
        }
    }

    @Test("round trip at every length boundary")
    func boundaries() throws {
        for raw: UInt32 in [0, 1, 2, 126, 127, 128, 129, 16382, 16383, 16384, 2_097_150, 2_097_151, 2_097_152, 536_870_910, 536_870_911] {
            let id = try #require(MuxChannelID(raw))
            var out = ByteBuffer()
            id.write(into: &out)
            out.writeInteger(UInt8(0xAB))  // what follows stays unread
            #expect(try MuxChannelID.read(from: &out, failing: .channelIDTruncated) == id)
            #expect(out.readableBytes == 1)
        }
    }

    @Test("IDs above 2^29 - 1 do not exist")
    func tooLarge() {
        #expect(MuxChannelID(1 << 29) == nil)
        #expect(MuxChannelID(UInt32.max) == nil)
        #expect(MuxChannelID(MuxChannelID.maxRawValue)?.rawValue == 536_870_911)
    }

    @Test("control and implicit channels")
    func wellKnown() {
        #expect(MuxChannelID.control.rawValue == 0 && MuxChannelID.control.isControl)
        #expect(MuxChannelID.implicit.rawValue == 1 && !MuxChannelID.implicit.isControl)
        #expect((5 as MuxChannelID) < (300 as MuxChannelID))
        #expect((7 as MuxChannelID).description == "7")
    }

    @Test("cut short: the code the caller names", arguments: ["", "80", "c040", "c0", "e02000", "e0"])
    func truncated(_ text: String) {
        #expect(
            dropCode { () throws(MuxWireError) in
                var input = buffer(hex: text)
                _ = try MuxChannelID.read(from: &input, failing: .channelIDTruncated)
            } == .channelIDTruncated)
        #expect(
            dropCode { () throws(MuxWireError) in
                var input = buffer(hex: text)
                _ = try MuxChannelID.read(from: &input, failing: .invalidMuxControlBlock)
            } == .invalidMuxControlBlock)
    }

    @Test("longer than the shortest form is refused", arguments: ["8000", "807f", "c00000", "c03fff", "e0000000", "e01fffff"])
    func nonMinimal(_ text: String) {
        #expect(
            dropCode { () throws(MuxWireError) in
                var input = buffer(hex: text)
                _ = try MuxChannelID.read(from: &input, failing: .channelIDTruncated)
            } == .channelIDTruncated)
    }
}
