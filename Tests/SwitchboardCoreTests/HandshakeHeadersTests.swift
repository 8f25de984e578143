import SwitchboardCore
import Testing

/// Header names and list tokens, compared without case and without copies.
@Suite("HandshakeHeaders: lookups without case")
struct HandshakeHeadersTests {
    @Test("RFC 9110 §5.1: ASCII letters match without case; other bytes only exactly")
    func asciiCase() {
        #expect("Sec-WebSocket-Key".equalsIgnoringASCIICase("sec-websocket-KEY"))
        #expect(!"Upgrade".equalsIgnoringASCIICase("Upgrad"))
        #expect(!"@".equalsIgnoringASCIICase("`"), "0x40 and 0x60 differ by the case bit but are not letters")
        #expect(!"[".equalsIgnoringASCIICase("{"))
        #expect(!"é".equalsIgnoringASCIICase("É"), "only ASCII folds")
    }

    @Test("RFC 9110 §5.6.1: list elements over every line, trimmed, empty ones skipped; single() refuses repeats")
    func lists() {
        let headers: HandshakeHeaders = ["Connection": "keep-alive, ,Upgrade ", "connection": "\tclose", "Host": "a", "HOST": "b"]
        #expect(headers.list("CONNECTION") == ["keep-alive", "Upgrade", "close"])
        #expect(headers.listContains("connection", token: "upgrade"))
        #expect(!headers.listContains("connection", token: "upgrade, close"))
        #expect(headers.single("host") == nil, "two Host fields")
        #expect(headers["host"] == ["a", "b"])
    }
}
