import CZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The memory of one long-lived zlib stream, in one `mmap` region of its own.
///
/// zlib makes four or five allocations of a few KiB per stream. From `malloc`
/// they stay in the process's heap after `deflateEnd` (glibc returns the
/// middle of the heap to the system only when it is trimmed), so freeing an
/// idle connection's compressor would not lower the server's memory at all:
/// measured, 63 KB per connection before and after. From a region of its own
/// they go back with one `munmap`, and the pages zlib never touches (most of
/// a window until the messages fill it) cost nothing meanwhile.
///
/// The region is sized from zlib's own formula for the stream's parameters;
/// an allocation that does not fit (a zlib that needs more) falls back to
/// `malloc`. One `mmap` and one `munmap` per stream: meant for streams that
/// live across messages, not for one stream per message.
final class ZlibArena {
    private let base: UnsafeMutableRawPointer
    private let size: Int
    private var used = 0

    /// - Parameter size: bytes zlib may need; rounded up to whole pages.
    init?(size: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let rounded = (size + page - 1) / page * page
        guard let region = mmap(nil, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            region != MAP_FAILED
        else { return nil }
        base = region
        self.size = rounded
    }

    deinit { munmap(base, size) }

    /// The bytes a raw deflate stream allocates: zlib's documented
    /// `(1 << (windowBits + 2)) + (1 << (memLevel + 9))`, plus its state.
    static func deflateSize(windowBits: Int, memoryLevel: Int) -> Int {
        (1 << (windowBits + 2)) + (1 << (memoryLevel + 9)) + 8 * 1024
    }

    /// The bytes a raw inflate stream allocates: its window and its state.
    static func inflateSize(windowBits: Int) -> Int {
        (1 << windowBits) + 12 * 1024
    }

    /// Points `stream`'s allocator at this arena; the stream must not outlive it.
    func install(on stream: UnsafeMutablePointer<z_stream>) {
        stream.pointee.opaque = Unmanaged.passUnretained(self).toOpaque()
        stream.pointee.zalloc = { opaque, items, size in
            Unmanaged<ZlibArena>.fromOpaque(opaque!).takeUnretainedValue().allocate(Int(items) * Int(size))
        }
        stream.pointee.zfree = { opaque, pointer in
            Unmanaged<ZlibArena>.fromOpaque(opaque!).takeUnretainedValue().free(pointer)
        }
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer? {
        let start = (used + 15) & ~15
        guard start + count <= size else { return malloc(count) }
        used = start + count
        return base + start
    }

    /// Memory from the region goes back with it; only fallbacks are freed one by one.
    private func free(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        if pointer < base || pointer >= base + size {
            // Qualified: this method shadows the C `free`.
            #if canImport(Glibc)
                Glibc.free(pointer)
            #elseif canImport(Musl)
                Musl.free(pointer)
            #elseif canImport(Darwin)
                Darwin.free(pointer)
            #endif
        }
    }
}
