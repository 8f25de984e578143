import NIOCore
import SwitchboardCore

/// The messages `switchboard bench` sends, built once and shared by every connection.
///
/// There are ``variants`` different payloads of the same size; connection `c`
/// sends variant `(n + c) % variants` as its `n`th message, so an echo that
/// comes back out of order, twice or not at all no longer matches the payload
/// expected next, and a byte corrupted anywhere (a masking error at any offset:
/// the pattern does not repeat every four bytes) fails the comparison.
///
/// Each variant is also kept as a complete client frame, masked once with its
/// own key: with no extension negotiated, sending a message is one write of a
/// shared buffer, no copy and no masking on the generator's hot path. RFC 6455
/// §5.3 wants a fresh unpredictable key per frame so that a browser's script
/// cannot steer the bytes on the wire; a load generator that controls all its
/// bytes anyway can reuse keys, as other WebSocket load tools do. The server
/// still unmasks every byte, which is what is measured.
struct BenchPayloads: Sendable {
    /// How many different payloads there are.
    static let variants = 16

    let size: Int
    let kind: WebSocketMessage.Kind
    /// The unmasked payloads: what each echo must equal.
    let payloads: [ByteBuffer]
    /// The same payloads as complete, masked client frames (FIN set, one frame per message).
    let frames: [ByteBuffer]
    /// A masked close frame with status 1000, sent when the run ends.
    let closeFrame: ByteBuffer

    init(size: Int, kind: WebSocketMessage.Kind, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.size = size
        self.kind = kind
        var payloads: [ByteBuffer] = []
        var frames: [ByteBuffer] = []
        for variant in 0..<Self.variants {
            var payload = allocator.buffer(capacity: size)
            payload.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                for i in 0..<size { raw[i] = Self.byte(at: i, variant: variant, kind: kind) }
                return size
            }
            var frame = allocator.buffer(capacity: FrameWriter.headerSize(payloadLength: size, masked: true) + size)
            FrameWriter.write(
                WireFrame(opcode: kind == .text ? .text : .binary, payload: payload),
                maskingKey: .random(), into: &frame)
            payloads.append(payload)
            frames.append(frame)
        }
        self.payloads = payloads
        self.frames = frames
        var close = allocator.buffer(capacity: 8)
        var code = allocator.buffer(capacity: 2)
        code.writeInteger(UInt16(1000))
        FrameWriter.write(WireFrame(opcode: .close, payload: code), maskingKey: .random(), into: &close)
        self.closeFrame = close
    }

    /// Byte `i` of payload `variant`: printable ASCII for text (so valid UTF-8), any byte for binary.
    static func byte(at i: Int, variant: Int, kind: WebSocketMessage.Kind) -> UInt8 {
        let mixed = i &* 131 &+ variant &* 29 &+ (i >> 7) &* 7
        switch kind {
        case .text: return UInt8(0x20 + mixed % 95)
        case .binary: return UInt8(truncatingIfNeeded: mixed ^ (mixed >> 8))
        }
    }

    /// The variant connection `connection` sends as message number `sequence`.
    @inline(__always)
    static func variant(sequence: Int, connection: Int) -> Int {
        (sequence &+ connection) % variants
    }
}
