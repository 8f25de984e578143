import NIOCore
import SwitchboardCore
import Synchronization

/// The payload variants of one run as permessage-deflate client frames, each
/// compressed once and shared by every connection.
///
/// Compressing every message on the generator would cost it as much zlib work
/// as the server's inflate plus deflate, and make the generator what limits a
/// deflate run. But a compressor may always leave the LZ77 window unused: a
/// message deflated by a fresh compressor refers to nothing sent before it, so
/// a receiver that keeps its window under context takeover decodes it the same
/// (RFC 7692 §7.1.1.2 only lets a client promise to do this; doing it unasked
/// is allowed). So each variant is compressed alone, by a fresh engine with the
/// negotiated parameters (which bound the window bits), masked once, and
/// written as is. The server still inflates every message in full and deflates
/// every echo with its own context; the generator inflates the echoes.
///
/// Other extensions transform traffic in ways that may depend on the
/// connection's state, so only a negotiation of permessage-deflate alone is
/// pre-encoded; any other keeps encoding each message on its connection.
final class BenchEncodedFrames: Sendable {
    /// Frames by the `Sec-WebSocket-Extensions` answer they were made for:
    /// every connection of a run normally gets the same one.
    private let cache = Mutex<[String: [ByteBuffer]]>([:])

    /// The frames for a connection whose handshake `handshake` was answered
    /// with `headers`, or nil when its extensions cannot be pre-encoded.
    func frames(
        answer headers: HandshakeHeaders, handshake: WebSocketClientHandshake, accepted: [String],
        payloads: BenchPayloads, limits: WebSocketLimits
    ) throws -> [ByteBuffer]? {
        guard accepted == ["permessage-deflate"] else { return nil }
        let key = headers.list("Sec-WebSocket-Extensions").joined(separator: ", ")
        if let frames = cache.withLock({ $0[key] }) { return frames }
        var frames: [ByteBuffer] = []
        for payload in payloads.payloads {
            // A new validation of the same answer gives new extension instances: a fresh compressor.
            var engine = WebSocketEngine(
                role: .client, limits: limits,
                extensions: try handshake.validate(status: 101, headers: headers).extensions)
            try engine.send(WebSocketMessage(kind: payloads.kind, data: payload))
            guard let frame = engine.takeOutbound() else { throw BenchError("the engine wrote no frame for a message") }
            frames.append(frame)
        }
        return cache.withLock { cached in
            if let existing = cached[key] { return existing }
            cached[key] = frames
            return frames
        }
    }
}
