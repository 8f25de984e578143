import SwitchboardCore
import Testing

@testable import Multiplex

@Suite("Delta-encoded handshakes: header arithmetic over the delta base")
struct HandshakeDeltaTests {
    // The physical request's headers as mod_pywebsocket's test_mux.py uses them.
    private let base: HandshakeHeaders = [
        "Host": "server.example.com", "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13", "Origin": "http://example.com",
    ]

    @Test("an empty delta is the base (mod_pywebsocket: test_add_channel_delta_encoding)")
    func empty() {
        #expect(MuxHandshakeDelta.apply([:], to: base) == base)
        #expect(MuxHandshakeDelta.make(from: base, to: base) == [:])
    }

    @Test("a field replaces the base's, names without case (test_add_channel_delta_encoding_override)")
    func override() {
        let withProtocol = MuxHandshakeDelta.apply(["sec-websocket-protocol": "x-foo"], to: base)
        #expect(withProtocol.single("Sec-WebSocket-Protocol") == "x-foo")
        let origin = MuxHandshakeDelta.apply(["ORIGIN": "http://other.example"], to: base)
        #expect(origin["Origin"] == ["http://other.example"])
        #expect(origin.single("Host") == "server.example.com")
    }

    @Test("an empty value removes the field (test_add_channel_delta_remove_header, ..._remove_extensions)")
    func remove() {
        var current = base
        current.add(name: "Sec-WebSocket-Extensions", value: "permessage-deflate")
        let removed = MuxHandshakeDelta.apply(["Sec-WebSocket-Extensions": ""], to: current)
        #expect(removed["Sec-WebSocket-Extensions"].isEmpty)
        #expect(removed == base)
        #expect(MuxHandshakeDelta.apply(["X-Absent": ""], to: base) == base)
    }

    @Test("a name on several lines replaces all of the base's lines")
    func multiLine() {
        var current = base
        current.add(name: "Sec-WebSocket-Protocol", value: "a")
        current.add(name: "Sec-WebSocket-Protocol", value: "b")
        var delta = HandshakeHeaders()
        delta.add(name: "Sec-WebSocket-Protocol", value: "c")
        delta.add(name: "Sec-WebSocket-Protocol", value: "d")
        #expect(MuxHandshakeDelta.apply(delta, to: current)["Sec-WebSocket-Protocol"] == ["c", "d"])
    }

    @Test("make then apply gives the target back")
    func roundTrip() throws {
        var target = base
        target.replaceOrAdd(name: "Origin", value: "http://other.example")
        target.add(name: "Sec-WebSocket-Protocol", value: "jsonrpc")
        target = HandshakeHeaders(target.filter { $0.name != "Sec-WebSocket-Key" })
        let delta = try #require(MuxHandshakeDelta.make(from: base, to: target))
        #expect(delta["Origin"] == ["http://other.example"])
        #expect(delta["Sec-WebSocket-Protocol"] == ["jsonrpc"])
        #expect(delta["Sec-WebSocket-Key"] == [""])
        #expect(delta.single("Host") == nil)
        let rebuilt = MuxHandshakeDelta.apply(delta, to: base)
        for name in ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Origin", "Sec-WebSocket-Protocol"] {
            #expect(rebuilt[name] == target[name], "\(name)")
        }
    }

    @Test("a target field with an empty value cannot be a delta")
    func emptyValue() {
        var target = base
        target.add(name: "X-Empty", value: "")
        #expect(MuxHandshakeDelta.make(from: base, to: target) == nil)
        #expect(MuxHandshakeDelta.make(from: target, to: target) == [:])
    }
}
