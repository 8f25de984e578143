#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// CPU time used so far by the generator (and by the server, given its process id), with the wall clock.
///
/// Two samples around the measured window say how busy each side was, as a
/// fraction of one core: the evidence that the generator is not what limits
/// a run is a server near 100% of its core while the generator is not.
struct BenchCPUSample: Sendable {
    /// Monotonic nanoseconds.
    var wall: UInt64
    /// CPU seconds (user + system) of this process, every thread.
    var generator: Double
    /// CPU seconds of the other process, read from `/proc/PID/stat`; `nil` when not asked or not readable,
    /// and always on macOS, which has no `/proc` (the figure is Linux-only).
    var server: Double?

    static func take(serverPID: Int32?) -> BenchCPUSample {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)  // a plain `int` constant on Musl and Darwin
        #endif
        let own =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return BenchCPUSample(wall: monotonicNanoseconds(), generator: own, server: serverPID.flatMap(processCPUSeconds))
    }

    /// (generator, server) CPU use between two samples, as fractions of one core.
    static func busy(from start: BenchCPUSample, to end: BenchCPUSample) -> (generator: Double, server: Double?) {
        let wall = Double(end.wall &- start.wall) / 1e9
        guard wall > 0 else { return (0, nil) }
        let server = start.server.flatMap { s in end.server.map { ($0 - s) / wall } }
        return ((end.generator - start.generator) / wall, server)
    }

    /// utime + stime of every thread of `pid`, from fields 14 and 15 of `/proc/PID/stat` (Linux).
    /// Elsewhere `nil`: macOS has no `/proc`, and the figure is Linux-only.
    private static func processCPUSeconds(_ pid: Int32) -> Double? {
        #if os(Linux)
            let fd = open("/proc/\(pid)/stat", O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: 2048)
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return nil }
            // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
            let text = bytes[..<n]
            guard let paren = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
            let fields = text[(paren + 1)...].split(separator: UInt8(ascii: " "))
            // fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
            guard fields.count > 12,
                let utime = Int(String(decoding: fields[11], as: UTF8.self)),
                let stime = Int(String(decoding: fields[12], as: UTF8.self))
            else { return nil }
            return Double(utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
        #else
            return nil
        #endif
    }
}
