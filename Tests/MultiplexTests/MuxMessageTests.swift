import NIOCore
import SwitchboardCore
import Testing

@testable import Multiplex

@Suite("Multiplexed messages: channel ID, then control blocks or one logical frame")
struct MuxMessageTests {
    private func frame(_ opcode: WireOpcode, _ payload: String, fin: Bool = true, rsv: WireFrame.ReservedBits = []) -> WireFrame {
        WireFrame(fin: fin, reservedBits: rsv, opcode: opcode, payload: ByteBuffer(string: payload))
    }

    @Test("decodes what mod_pywebsocket's standalone server sent its mux client")
    func capture() throws {
        typealias C = Golden.Capture
        #expect(try MuxMessage(parsing: buffer(hex: C.implicitChannelQuota)) == .control([.flowControl(.init(channel: .implicit, quota: 8192))]))
        #expect(try MuxMessage(parsing: buffer(hex: C.slots)) == .control([.newChannelSlot(.init(slots: 64, initialQuota: 8192))]))
        #expect(
            try MuxMessage(parsing: buffer(hex: C.channel2Accepted))
                == .control([.addChannelResponse(.init(channel: 2, handshake: Golden.accepted))]))
        #expect(try MuxMessage(parsing: buffer(hex: C.replenishTest)) == .control([.flowControl(.init(channel: 2, quota: 5))]))
        #expect(try MuxMessage(parsing: buffer(hex: C.echoTest)) == .frame(2, frame(.text, "test")))
        #expect(try MuxMessage(parsing: buffer(hex: C.replenishBinary)) == .control([.flowControl(.init(channel: 2, quota: 3))]))
        #expect(
            try MuxMessage(parsing: buffer(hex: C.echoBinary))
                == .frame(2, WireFrame(opcode: .binary, payload: buffer(hex: "00ff"))))
        #expect(try MuxMessage(parsing: buffer(hex: C.replenishImplicit)) == .control([.flowControl(.init(channel: .implicit, quota: 24))]))
        #expect(try MuxMessage(parsing: buffer(hex: C.echoImplicit)) == .frame(.implicit, frame(.text, "on the implicit channel")))
        #expect(try MuxMessage(parsing: buffer(hex: C.replenishClose)) == .control([.flowControl(.init(channel: 2, quota: 1))]))
        #expect(try MuxMessage(parsing: buffer(hex: C.closeChannel2)) == .frame(2, WireFrame(opcode: .close, payload: buffer(hex: "03e8"))))
    }

    @Test("encodes the same bytes the server sent")
    func encodeCapture() {
        typealias C = Golden.Capture
        #expect(hex(MuxMessage.frame(2, frame(.text, "test")).payload()) == C.echoTest)
        #expect(hex(MuxMessage.frame(.implicit, frame(.text, "on the implicit channel")).payload()) == C.echoImplicit)
        #expect(hex(MuxMessage.control([.newChannelSlot(.init(slots: 64, initialQuota: 8192))]).payload()) == C.slots)
        #expect(hex(MuxMessage.control([.addChannelResponse(.init(channel: 2, handshake: Golden.accepted))]).payload()) == C.channel2Accepted)
    }

    @Test("every header bit survives a round trip, on channel IDs of every length")
    func headerBits() throws {
        for channel: MuxChannelID in [1, 127, 128, 16384, 2_097_152] {
            for byte in 0...255 {
                let header = MuxFrameHeader(byte: UInt8(byte))
                #expect(header.byte == UInt8(byte))
                let message = MuxMessage.frame(
                    channel,
                    WireFrame(
                        fin: header.fin, reservedBits: header.reservedBits,
                        opcode: header.opcode, payload: ByteBuffer(string: "x")))
                let payload = message.payload()
                #expect(payload.readableBytes == message.encodedLength)
                #expect(try MuxMessage(parsing: payload) == message)
            }
        }
    }

    @Test("a continuation frame with RSV1 (a channel's own deflate) keeps its bits")
    func fragmentsAndReservedBits() throws {
        let first = MuxMessage.frame(5, frame(.text, "he", fin: false, rsv: .rsv1))
        let last = MuxMessage.frame(5, frame(.continuation, "llo"))
        #expect(hex(first.payload()) == "05416865")
        #expect(hex(last.payload()) == "05806c6c6f")
        #expect(try MuxMessage(parsing: first.payload()) == first)
        #expect(try MuxMessage(parsing: last.payload()) == last)
    }

    @Test("an empty logical frame is the channel ID and the header byte")
    func emptyFrame() throws {
        #expect(hex(MuxMessage.frame(2, frame(.text, "")).payload()) == "0281")
        #expect(try MuxMessage(parsing: buffer(hex: "0281")) == .frame(2, frame(.text, "")))
    }

    @Test("the prefix of a logical frame, for gathered writes")
    func prefix() {
        var out = ByteBuffer()
        MuxMessage.framePrefix(channel: 16384, header: MuxFrameHeader(opcode: .binary), into: &out)
        #expect(hex(out) == "c0400082")
    }

    @Test("a text physical message is 2001")
    func textMessage() {
        #expect(
            dropCode { () throws(MuxWireError) in
                _ = try MuxMessage(parsing: WebSocketMessage(kind: .text, data: buffer(hex: "0281")))
            } == .invalidEncapsulatingMessage)
        #expect(
            dropCode { () throws(MuxWireError) in
                _ = try MuxMessage(parsing: WebSocketMessage(kind: .binary, data: buffer(hex: "0281")))
            } == nil)
    }

    @Test("an empty or cut channel ID is 2002", arguments: ["", "80", "c000", "e00000", "8002"])
    func channelIDTruncated(_ text: String) {
        #expect(dropCode { () throws(MuxWireError) in _ = try MuxMessage(parsing: buffer(hex: text)) } == .channelIDTruncated)
    }

    @Test("a logical channel's message with no header byte is 2003", arguments: ["01", "02", "8080", "ffffffff"])
    func frameTruncated(_ text: String) {
        #expect(dropCode { () throws(MuxWireError) in _ = try MuxMessage(parsing: buffer(hex: text)) } == .encapsulatedFrameTruncated)
    }

    @Test("the wire error maps to DropChannel on channel 0 and close 1011")
    func errorMapping() {
        let error = MuxWireError(.encapsulatedFrameTruncated, "no header")
        #expect(error.physicalCloseCode == .internalServerError)
        #expect(error.protocolError.closeCode.rawValue == 1011)
        #expect(error.protocolError.reason.contains("2003"))
        #expect(MuxDropChannel(failing: error).channel == .control)
    }
}
