import CZlib
import NIOCore

/// One zlib stream in raw-deflate mode (RFC 1951, no zlib header, as RFC 7692 §7.2 requires).
///
/// The `z_stream` lives on the heap at a fixed address because zlib keeps a
/// pointer back to it and checks it on every call.
final class ZlibStream {
    enum Mode {
        case deflate(level: Int32, memoryLevel: Int32)
        case inflate
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let mode: Mode
    /// Where a long-lived stream's memory comes from, so that freeing the stream gives it back.
    private let arena: ZlibArena?

    /// Fails when zlib refuses the parameters (e.g. an 8-bit window for raw deflate).
    ///
    /// - Parameter longLived: the stream serves many messages (context takeover):
    ///   its memory comes from a ``ZlibArena`` and returns to the system when it is
    ///   freed. A stream per message uses `malloc`, whose memory the next one reuses.
    init?(mode: Mode, windowBits: Int, longLived: Bool = false) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        self.mode = mode
        if longLived {
            switch mode {
            case .deflate(_, let memoryLevel): arena = ZlibArena(size: ZlibArena.deflateSize(windowBits: windowBits, memoryLevel: Int(memoryLevel)))
            case .inflate: arena = ZlibArena(size: ZlibArena.inflateSize(windowBits: windowBits))
            }
            arena?.install(on: stream)
        } else {
            arena = nil
        }
        let size = Int32(MemoryLayout<z_stream>.size)
        let rc: Int32
        switch mode {
        case .deflate(let level, let memoryLevel):
            rc = deflateInit2_(stream, level, Z_DEFLATED, -Int32(windowBits), memoryLevel, Z_DEFAULT_STRATEGY, ZLIB_VERSION, size)
        case .inflate:
            rc = inflateInit2_(stream, -Int32(windowBits), ZLIB_VERSION, size)
        }
        guard rc == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        switch mode {
        case .deflate: deflateEnd(stream)
        case .inflate: inflateEnd(stream)
        }
        stream.deallocate()
    }

    /// Forgets the history (no context takeover) without freeing the window.
    func reset() {
        switch mode {
        case .deflate: deflateReset(stream)
        case .inflate: inflateReset(stream)
        }
    }

    /// Compresses `input` and appends the output to `output`; with `flush`
    /// the output ends on a byte boundary with the `00 00 FF FF` of a sync flush.
    ///
    /// zlib only reads the input, so it is lent without mutable access: that access would
    /// copy a buffer shared with the caller (a message the application still holds) first,
    /// two allocations per message (`switchboard-microbench deflate`).
    func deflate(_ input: ByteBuffer, flush: Bool, into output: inout ByteBuffer) {
        input.withUnsafeReadableBytes { inBytes in
            stream.pointee.next_in = Self.zlibInput(inBytes)
            stream.pointee.avail_in = uInt(inBytes.count)
            while true {
                output.reserveCapacity(minimumWritableBytes: Int(deflateBound(stream, uLong(stream.pointee.avail_in))) + 16)
                var rc = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { outBytes in
                    stream.pointee.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(outBytes.count)
                    rc = CZlib.deflate(stream, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH)
                    return outBytes.count - Int(stream.pointee.avail_out)
                }
                // Done when all input is consumed and, for a flush, zlib had room to spare.
                if rc == Z_BUF_ERROR || (stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0) { break }
            }
            stream.pointee.next_in = nil
        }
    }

    /// `next_in` for read-only bytes: zlib declares it mutable (without `z_const`) but never writes through it.
    private static func zlibInput(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<Bytef>? {
        bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
    }

    enum InflateError: Error {
        case corrupt(String)
        case tooLarge
    }

    /// Decompresses `input`, appending to `output`, and stops with `.tooLarge`
    /// as soon as the output would pass `limit` bytes: a small message that
    /// inflates to gigabytes is never inflated in full.
    func inflate(_ input: ByteBuffer, into output: inout ByteBuffer, limit: Int) throws(InflateError) {
        let result: InflateError? = input.withUnsafeReadableBytes { inBytes -> InflateError? in
            stream.pointee.next_in = Self.zlibInput(inBytes)
            stream.pointee.avail_in = uInt(inBytes.count)
            defer { stream.pointee.next_in = nil }
            while true {
                // Ask for at most one byte past the limit: producing it proves the limit is exceeded.
                let chunk = min(max(inBytes.count * 4, 4096), limit - output.readableBytes + 1, 1 << 20)
                output.reserveCapacity(minimumWritableBytes: chunk)
                var rc = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { outBytes in
                    stream.pointee.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(chunk)
                    rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    return chunk - Int(stream.pointee.avail_out)
                }
                let full = stream.pointee.avail_out == 0
                if output.readableBytes > limit { return .tooLarge }
                switch rc {
                case Z_OK where stream.pointee.avail_in > 0 || full: continue
                case Z_OK, Z_BUF_ERROR: return nil
                case Z_STREAM_END:
                    // A block with BFINAL set ends the stream (RFC 7692 §7.2.3.4); what follows,
                    // such as the 00 00 FF FF we append, starts a new one.
                    CZlib.inflateReset(stream)
                    if stream.pointee.avail_in > 0 { continue }
                    return nil
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
                    return .corrupt(message)
                }
            }
            return nil
        }
        if let result { throw result }
    }
}
