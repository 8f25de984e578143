#if canImport(Glibc)
    import Glibc
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
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
