import NIOCore
import SwitchboardCore
import Testing

@Suite("Close codes and close frames (RFC 6455 §5.5.1, §7.4)")
struct CloseTests {
    @Test(
        "§7.4.1, §7.4.2: codes that may be sent are accepted on the wire",
        arguments: [UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])
    func allowedCodes(code: UInt16) throws {
        #expect(WebSocketCloseCode(code).isAllowedOnWire)
        let frame = try WebSocketCloseFrame(parsing: ByteBuffer(bytes: closePayload(code, "ok")))
        #expect(frame.code == WebSocketCloseCode(code))
        #expect(frame.reason == "ok")
    }

    @Test(
        "§7.4.1, §7.4.2: reserved, local-only and out-of-range codes close with 1002",
        arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
    func refusedCodes(code: UInt16) {
        #expect(!WebSocketCloseCode(code).isAllowedOnWire)
        #expect(throws: WebSocketProtocolError.self) { try WebSocketCloseFrame(parsing: ByteBuffer(bytes: closePayload(code))) }
        do {
            _ = try WebSocketCloseFrame(parsing: ByteBuffer(bytes: closePayload(code)))
        } catch {
            #expect(error.closeCode == .protocolError)
        }
    }

    @Test("§5.5.1: an empty close payload has no code (reported as 1005, §7.1.5)")
    func emptyPayload() throws {
        let frame = try WebSocketCloseFrame(parsing: ByteBuffer())
        #expect(frame.code == nil)
        #expect(frame.reason == "")
        #expect(frame.payload().readableBytes == 0)
    }

    @Test("§5.5.1: a one-byte close payload closes with 1002")
    func oneBytePayload() {
        do {
            _ = try WebSocketCloseFrame(parsing: ByteBuffer(bytes: [0x03]))
            Issue.record("a one-byte close payload was accepted")
        } catch {
            #expect(error.closeCode == .protocolError)
        }
    }

    @Test(
        "§5.5.1, §8.1: a close reason that is not UTF-8 closes with 1007",
        arguments: [
            [UInt8(0xFF)], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xE2, 0x82],  // the last one is cut off
        ])
    func badReason(reason: [UInt8]) {
        do {
            _ = try WebSocketCloseFrame(parsing: ByteBuffer(bytes: closePayload(1000) + reason))
            Issue.record("an invalid close reason was accepted")
        } catch {
            #expect(error.closeCode == .invalidFramePayloadData)
        }
    }

    @Test("§5.5.1: the payload is the code in network byte order, then the UTF-8 reason")
    func payloadLayout() {
        #expect(WebSocketCloseFrame(code: .goingAway, reason: "bye").payload().bytes == [0x03, 0xE9] + Array("bye".utf8))
        #expect(WebSocketCloseFrame(code: WebSocketCloseCode(4321)).payload().bytes == [0x10, 0xE1])
    }

    @Test(
        "§5.5: a long reason is cut to fit a 125-byte control frame, at a character boundary",
        arguments: [
            String(repeating: "a", count: 200),
            String(repeating: "é", count: 100),  // 2 bytes each
            String(repeating: "€", count: 60),  // 3 bytes each
            String(repeating: "🎉", count: 40),  // 4 bytes each
            "x" + String(repeating: "👩‍👩‍👧‍👦", count: 10),  // 25-byte grapheme clusters
        ])
    func longReasonTruncated(reason: String) throws {
        let payload = WebSocketCloseFrame(code: .normalClosure, reason: reason).payload()
        #expect(payload.readableBytes <= 125)
        #expect(payload.readableBytes > 125 - 26, "cut no more than needed")
        let parsed = try WebSocketCloseFrame(parsing: payload)  // valid UTF-8, so nothing was cut mid-sequence
        #expect(parsed.code == .normalClosure)
        #expect(reason.hasPrefix(parsed.reason))
    }

    @Test("§5.5: a reason that fits is kept whole")
    func shortReasonKept() throws {
        let reason = String(repeating: "b", count: 123)
        let payload = WebSocketCloseFrame(code: .normalClosure, reason: reason).payload()
        #expect(payload.readableBytes == 125)
        #expect(try WebSocketCloseFrame(parsing: payload).reason == reason)
    }
}
