/// Bytes written by mod_pywebsocket 0.7.9's own encoders, the reference for draft 06.
///
/// Produced with the PyPI sdist `mod_pywebsocket-0.7.9.tar.gz` (sha256
/// 98b7cf8f66df70777460466bf6bd3dcacec5683066ecab656d3e3fbb16943d86) unpacked
/// under /tmp, from its root, by
/// `PYTHONPATH=. PYENV_VERSION=2.7.18 python2.7 golden.py`, where golden.py
/// prints `binascii.hexlify(...)` of the calls named beside each constant
/// (`mux` is `mod_pywebsocket.mux`; `mc` is the sdist's
/// `test/mux_client_for_testing.py`, since mux.py itself never writes an
/// AddChannelRequest). The `Capture` values are the physical messages its
/// standalone server sent to its own mux test client; see docs/multiplexing.md.
enum Golden {
    /// `mux._encode_channel_id(id)`.
    static let channelIDs: [(id: UInt32, hex: String)] = [
        (0, "00"), (1, "01"), (127, "7f"), (128, "8080"), (16383, "bfff"), (16384, "c04000"),
        (2_097_151, "dfffff"), (2_097_152, "e0200000"), (536_870_911, "ffffffff"),
    ]

    /// `mux._create_flow_control(channel, quota)`.
    static let flowControls: [(channel: UInt32, quota: Int, hex: String)] = [
        (1, 8192, "40017e2000"), (2, 0, "400200"), (3, 125, "40037d"), (4, 126, "40047e007e"),
        (5, 65535, "40057effff"), (6, 65536, "40067f0000000000010000"),
        (300, Int.max, "40812c7f7fffffffffffffff"),
    ]

    /// `mux._create_new_channel_slot(slots, quota)`.
    static let newChannelSlots: [(slots: Int, quota: Int, hex: String)] = [
        (64, 8192, "80407e2000"), (0, 0, "800000"), (1, 125, "80017d"),
        (70000, 1 << 40, "807f00000000000111707f0000010000000000"),
    ]
    /// `mux._create_fallback_new_channel_slot()`.
    static let fallbackNewChannelSlot = "810000"

    /// `mux._create_drop_channel(channel)` and `mux._create_drop_channel(channel, code, message)`.
    static let dropChannels: [(channel: UInt32, code: UInt16?, message: String, hex: String)] = [
        (2, nil, "", "600200"),
        (2, 1000, "", "60020203e8"),
        (3, 3005, "quota", "6003070bbd71756f7461"),
        (0, 2001, "text message", "60000e07d174657874206d657373616765"),
        (20000, 3008, "", "60c04e20020bc0"),
    ]

    static let accepted = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n"
    static let rejected = "HTTP/1.1 400 Bad Request\r\n\r\n"
    static let acceptedDelta = "HTTP/1.1 101 Switching Protocols\r\n\r\n"
    static let acceptedLong =
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: "
        + String(repeating: "x", count: 100) + "\r\n\r\n"

    /// `mux._create_add_channel_response(channel, handshake, encoding=, rejected=)`.
    static let addChannelResponses: [(channel: UInt32, rejected: Bool, delta: Bool, handshake: String, hex: String)] = [
        (
            2, false, false, accepted,
            "200239485454502f312e312031303120537769746368696e672050726f746f636f6c730d0a436f6e6e656374696f6e3a20557067726164650d0a0d0a"
        ),
        (3, true, false, rejected, "30031c485454502f312e31203430302042616420526571756573740d0a0d0a"),
        (4, false, true, acceptedDelta, "210424485454502f312e312031303120537769746368696e672050726f746f636f6c730d0a0d0a"),
        (
            200, false, false, acceptedLong,
            "2080c87e00b7485454502f312e312031303120537769746368696e672050726f746f636f6c730d0a436f6e6e656374696f6e3a20557067726164650d0a5365632d576562536f636b65742d50726f746f636f6c3a20"
                + String(repeating: "78", count: 100) + "0d0a0d0a"
        ),
    ]

    static let request = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8880\r\nOrigin: http://localhost\r\nConnection: Upgrade\r\n\r\n"
    static let requestDelta = "GET /echo HTTP/1.1\r\n\r\n"
    static let requestLong =
        "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:8880\r\nOrigin: http://localhost\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: "
        + String(repeating: "y", count: 100) + "\r\n\r\n"

    /// `mc._create_add_channel_request(channel, handshake, encoding=)`.
    static let addChannelRequests: [(channel: UInt32, delta: Bool, handshake: String, hex: String)] = [
        (
            2, false, request,
            "00025b474554202f6563686f20485454502f312e310d0a486f73743a203132372e302e302e313a383838300d0a4f726967696e3a20687474703a2f2f6c6f63616c686f73740d0a436f6e6e656374696f6e3a20557067726164650d0a0d0a"
        ),
        (3, true, requestDelta, "010316474554202f6563686f20485454502f312e310d0a0d0a"),
        (
            16384, false, requestLong,
            "00c040007e00d9474554202f6563686f20485454502f312e310d0a486f73743a203132372e302e302e313a383838300d0a4f726967696e3a20687474703a2f2f6c6f63616c686f73740d0a436f6e6e656374696f6e3a20557067726164650d0a5365632d576562536f636b65742d50726f746f636f6c3a20"
                + String(repeating: "79", count: 100) + "0d0a0d0a"
        ),
    ]

    /// Every physical binary message the standalone server
    /// (`mod_pywebsocket/standalone.py -d example`) sent to `mc.MuxClient`
    /// while it: connected, sent FlowControl(1, 1024), added channel 2 on
    /// /echo, sent FlowControl(2, 1024), echoed "test" and the binary 00 ff on
    /// channel 2, echoed "on the implicit channel" on channel 1, and closed
    /// channel 2 with an empty close frame. Recorded by wrapping
    /// `mc._MuxReaderThread._receive_message` (capture.py in the doc).
    enum Capture {
        static let implicitChannelQuota = "0040017e2000"  // FlowControl(1, 8192)
        static let slots = "0080407e2000"  // NewChannelSlot(64 slots, 8192 quota)
        static let channel2Accepted =  // AddChannelResponse(2, 101)
            "00200239485454502f312e312031303120537769746368696e672050726f746f636f6c730d0a436f6e6e656374696f6e3a20557067726164650d0a0d0a"
        static let replenishTest = "00400205"  // FlowControl(2, 5): 4 bytes + 1 for the message start
        static let echoTest = "028174657374"  // channel 2, FIN text "test"
        static let replenishBinary = "00400203"  // FlowControl(2, 3)
        static let echoBinary = "028200ff"  // channel 2, FIN binary 00 ff
        static let replenishImplicit = "00400118"  // FlowControl(1, 24)
        static let echoImplicit = "01816f6e2074686520696d706c69636974206368616e6e656c"  // channel 1 text
        static let replenishClose = "00400201"  // FlowControl(2, 1): an empty close costs 1
        static let closeChannel2 = "028803e8"  // channel 2, close 1000
    }
}
