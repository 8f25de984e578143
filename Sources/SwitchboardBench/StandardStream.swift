#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unbuffered writes to the standard streams, for the command-line tool and its benchmarks:
/// a line reaches the terminal or the pipe at once, whatever the process does next.
public enum StandardStream {
    case standardError
    case standardOutput

    public func write(_ text: String) {
        var bytes = Array(text.utf8)
        let fd: Int32 = self == .standardError ? 2 : 1
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}

/// `write(2)`, which ``StandardStream/write(_:)`` shadows: qualified by the platform's C module.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(fd, bytes, count)
    #elseif canImport(Musl)
        return Musl.write(fd, bytes, count)
    #elseif canImport(Darwin)
        return Darwin.write(fd, bytes, count)
    #endif
}
