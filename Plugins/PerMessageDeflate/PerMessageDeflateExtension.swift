import NIOCore
import SwitchboardCore

/// permessage-deflate at work on one connection (RFC 7692 §6, §7.2).
///
/// Works per message across fragments: RSV1 on a message's first frame marks
/// it compressed, every fragment of it is inflated in one stream, and the
/// `00 00 FF FF` that ends a sync flush is removed on sending and restored on
/// receiving (§7.2.1, §7.2.2). Control frames pass untouched (§6.1).
struct PerMessageDeflateExtension: WebSocketExtension {
    let name = PerMessageDeflate.token
    var reservedBits: WireFrame.ReservedBits { .rsv1 }

    private let configuration: PerMessageDeflate.Configuration
    private let compressWindowBits: Int
    private let compressNoContextTakeover: Bool
    private let decompressWindowBits: Int
    private let decompressNoContextTakeover: Bool

    /// Created on first use and, without context takeover, dropped after each message.
    private var deflater: ZlibStream?
    private var inflater: ZlibStream?
    /// Whether the incoming message in progress is compressed (`nil`: between messages).
    private var inflating: Bool?
    private var inflatedSoFar = 0
    /// Whether the outgoing message in progress is compressed (`nil`: between messages).
    private var deflating: Bool?

    private static let tail = ByteBuffer(bytes: [0x00, 0x00, 0xFF, 0xFF])

    init(
        configuration: PerMessageDeflate.Configuration, compressWindowBits: Int, compressNoContextTakeover: Bool,
        decompressWindowBits: Int, decompressNoContextTakeover: Bool
    ) {
        self.configuration = configuration
        self.compressWindowBits = compressWindowBits
        self.compressNoContextTakeover = compressNoContextTakeover
        self.decompressWindowBits = decompressWindowBits
        self.decompressNoContextTakeover = decompressNoContextTakeover
    }

    // MARK: Receiving

    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        let compressedBit = frame.reservedBits.contains(.rsv1)
        if frame.opcode.isControl {
            guard !compressedBit else { throw WebSocketProtocolError(.protocolError, "RSV1 set on a control frame") }  // §6.1
            output.forward(frame)
            return
        }
        let compressed: Bool
        if frame.opcode == .continuation {
            // §6.1: RSV1 belongs on the first frame only.
            guard !compressedBit else { throw WebSocketProtocolError(.protocolError, "RSV1 set on a continuation frame") }
            compressed = inflating ?? false  // a continuation with no message is the assembler's error to report
        } else {
            compressed = compressedBit
            inflatedSoFar = 0
        }
        inflating = frame.fin ? nil : compressed
        guard compressed else {
            output.forward(frame)
            return
        }

        if inflater == nil {
            inflater = ZlibStream(mode: .inflate, windowBits: decompressWindowBits, longLived: !decompressNoContextTakeover)
            guard inflater != nil else { throw WebSocketProtocolError(.internalServerError, "zlib could not start an inflate stream") }
        }
        let limit = configuration.maxDecompressedMessageSize - inflatedSoFar
        // Sized as inflate's first step asks, so that a small message is one allocation.
        var plain = ByteBufferAllocator().buffer(capacity: min(max(frame.payload.readableBytes * 4, 4096), limit + 1, 1 << 20))
        do throws(ZlibStream.InflateError) {
            try inflater!.inflate(frame.payload, into: &plain, limit: limit)
            if frame.fin { try inflater!.inflate(Self.tail, into: &plain, limit: limit) }  // §7.2.2
        } catch {
            switch error {
            case .tooLarge:
                throw WebSocketProtocolError(.messageTooBig, "message inflates past \(configuration.maxDecompressedMessageSize) bytes")
            case .corrupt(let why):
                throw WebSocketProtocolError(.invalidFramePayloadData, "bad DEFLATE data: \(why)")
            }
        }
        inflatedSoFar += plain.readableBytes
        DeflateMetrics.received(compressed: frame.payload.readableBytes, uncompressed: plain.readableBytes)
        if frame.fin && decompressNoContextTakeover { inflater = nil }
        output.forward(WireFrame(fin: frame.fin, reservedBits: frame.reservedBits.subtracting(.rsv1), opcode: frame.opcode, payload: plain))
    }

    // MARK: Idle

    /// Frees the compressor between messages, history and all (32 KiB at the
    /// defaults). That is always safe: a compressor may use less history than
    /// the peer's decompressor keeps (RFC 7692 §7.2.1 only bounds what it may
    /// refer to), so the next message simply refers to nothing before it. The
    /// decompressor stays: with context takeover the peer may refer to its
    /// earlier messages (§7.2.2), and without it is already freed per message.
    mutating func releaseIdleMemory() {
        if deflating == nil { deflater = nil }
    }

    // MARK: Sending

    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) {
        if frame.opcode.isControl {
            output.forward(frame)  // §6.1: control frames are never compressed
            return
        }
        let compress: Bool
        if frame.opcode == .continuation {
            compress = deflating ?? false
        } else {
            // A one-frame message under the threshold goes out as is; a fragmented one is always compressed.
            compress = !(frame.fin && frame.payload.readableBytes < configuration.compressionThreshold)
        }
        deflating = frame.fin ? nil : compress
        guard compress else {
            output.forward(frame)
            return
        }

        if deflater == nil {
            deflater = ZlibStream(
                mode: .deflate(level: Int32(configuration.compressionLevel), memoryLevel: Int32(configuration.memoryLevel)),
                windowBits: compressWindowBits, longLived: !compressNoContextTakeover)
            guard deflater != nil else { throw WebSocketProtocolError(.internalServerError, "zlib could not start a deflate stream") }
        }
        // Room for zlib's worst case: deflateBound's conservative bound (ours are not zlib's default
        // window and memory level) plus the 16 bytes ZlibStream adds, so one allocation, not a regrowth.
        let size = frame.payload.readableBytes
        var compressed = ByteBufferAllocator().buffer(capacity: size + (size + 7) >> 3 + (size + 63) >> 6 + 5 + 16 + 8)
        deflater!.deflate(frame.payload, flush: frame.fin, into: &compressed)
        if frame.fin {
            // §7.2.1: drop the 00 00 FF FF the sync flush ended with.
            if compressed.readableBytes >= 4, compressed.getInteger(at: compressed.writerIndex - 4, as: UInt32.self) == 0x0000_FFFF {
                compressed.moveWriterIndex(to: compressed.writerIndex - 4)
            }
            if compressNoContextTakeover { deflater = nil }
        }
        DeflateMetrics.sent(uncompressed: size, compressed: compressed.readableBytes)
        let rsv = frame.opcode == .continuation ? frame.reservedBits : frame.reservedBits.union(.rsv1)  // §6: first frame only
        output.forward(WireFrame(fin: frame.fin, reservedBits: rsv, opcode: frame.opcode, payload: compressed))
    }
}
