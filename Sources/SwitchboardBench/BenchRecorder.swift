import Histogram
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Nanoseconds on the monotonic clock (a vDSO call, no system call).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// What the connections of one event loop measured. Lives on that loop
/// (reached through `NIOLoopBound`), so recording takes no lock.
///
/// Counting is off until ``startMeasuring()``: the warm-up and the
/// connections' ramp-up are not measured, and neither are the echoes still in
/// flight after ``stopMeasuring()``. Mismatches and errors are counted from the
/// first message to the last, whether measuring or not: a wrong echo is wrong
/// at any time.
final class BenchRecorder {
    /// Round-trip times in nanoseconds, 3 significant digits, up to 60 s.
    private(set) var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    private(set) var messages = 0
    private(set) var payloadBytes = 0
    private(set) var mismatches = 0
    /// The first few mismatches, described, for the report.
    private(set) var mismatchSamples: [String] = []
    private(set) var errors: [String] = []
    private var measuring = false
    private var startedAt: UInt64 = 0
    private var stoppedAt: UInt64 = 0

    /// Counts one complete, verified echo.
    @inline(__always)
    func recordEcho(roundTripNanoseconds: UInt64, payloadBytes bytes: Int) {
        guard measuring else { return }
        messages &+= 1
        payloadBytes &+= bytes
        latency.record(roundTripNanoseconds)
    }

    /// Counts an echo that differs from what was sent.
    func recordMismatch(_ description: @autoclosure () -> String) {
        mismatches += 1
        if mismatchSamples.count < 5 { mismatchSamples.append(description()) }
    }

    /// Notes a connection that failed (kept to the first 20).
    func recordError(_ description: String) {
        if errors.count < 20 { errors.append(description) }
    }

    func startMeasuring() {
        latency.reset()
        messages = 0
        payloadBytes = 0
        startedAt = monotonicNanoseconds()
        measuring = true
    }

    /// Stops counting and returns what was counted since ``startMeasuring()``.
    func stopMeasuring() -> BenchSnapshot {
        if measuring { stoppedAt = monotonicNanoseconds() }
        measuring = false
        return snapshot()
    }

    /// What was counted so far, as a value that can leave the event loop.
    func snapshot() -> BenchSnapshot {
        BenchSnapshot(
            messages: messages, payloadBytes: payloadBytes,
            seconds: stoppedAt > startedAt ? Double(stoppedAt - startedAt) / 1e9 : 0,
            latency: latency, mismatches: mismatches, mismatchSamples: mismatchSamples, errors: errors)
    }
}

/// The counts of one event loop, or of all of them merged.
struct BenchSnapshot: Sendable {
    var messages: Int
    var payloadBytes: Int
    /// The measured window of this loop.
    var seconds: Double
    var latency: Histogram<UInt64>
    var mismatches: Int
    var mismatchSamples: [String]
    var errors: [String]

    /// Messages per second: each loop's count over its own window, summed.
    var messagesPerSecond: Double
    /// Echoed payload bytes per second (one direction), summed the same way.
    var payloadBytesPerSecond: Double

    init(
        messages: Int, payloadBytes: Int, seconds: Double, latency: Histogram<UInt64>, mismatches: Int,
        mismatchSamples: [String], errors: [String]
    ) {
        self.messages = messages
        self.payloadBytes = payloadBytes
        self.seconds = seconds
        self.latency = latency
        self.mismatches = mismatches
        self.mismatchSamples = mismatchSamples
        self.errors = errors
        self.messagesPerSecond = seconds > 0 ? Double(messages) / seconds : 0
        self.payloadBytesPerSecond = seconds > 0 ? Double(payloadBytes) / seconds : 0
    }

    /// Adds another loop's counts to these.
    mutating func merge(_ other: BenchSnapshot) {
        messages += other.messages
        payloadBytes += other.payloadBytes
        seconds = max(seconds, other.seconds)
        latency.add(other.latency)
        mismatches += other.mismatches
        mismatchSamples += other.mismatchSamples.prefix(max(0, 5 - mismatchSamples.count))
        errors += other.errors.prefix(max(0, 20 - errors.count))
        messagesPerSecond += other.messagesPerSecond
        payloadBytesPerSecond += other.payloadBytesPerSecond
    }
}

extension BenchSnapshot? {
    /// Adds `snapshot` to the total so far; the first one becomes the total.
    mutating func add(_ snapshot: BenchSnapshot) {
        if case .some = self { self!.merge(snapshot) } else { self = snapshot }
    }
}
