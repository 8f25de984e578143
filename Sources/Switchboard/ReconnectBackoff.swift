/// How long a ``WebSocketReconnections`` waits before each attempt after a failure: exponential
/// growth with jitter, capped.
///
/// The wait before attempt *n* of a run of failures is a random duration between half and all
/// of `min(maximumDelay, initialDelay × multiplierⁿ⁻¹)`. The random half spreads out the clients
/// a restarting server dropped at once, so that they do not all come back in the same instant;
/// the other half keeps a floor under the wait, so that a client never hammers a server that is
/// down. A connection that opens resets the run.
public struct ReconnectBackoff: Sendable, Hashable {
    /// The wait before the first retry. Default 0.5 s: a restart that takes a second is
    /// bridged in a few attempts, while a client does not spin on a dead server.
    public var initialDelay: Duration
    /// Each further failure multiplies the wait by this. Default 2.
    public var multiplier: Double
    /// The wait never grows past this. Default 30 s: a server back after an outage sees its
    /// clients within half a minute.
    public var maximumDelay: Duration
    /// After this many failures in a row the sequence throws the last error; `nil`, the
    /// default, retries until the task is cancelled or the loop stops.
    public var maximumAttempts: Int?

    public init(
        initialDelay: Duration = .milliseconds(500), multiplier: Double = 2, maximumDelay: Duration = .seconds(30),
        maximumAttempts: Int? = nil
    ) {
        self.initialDelay = initialDelay
        self.multiplier = max(1, multiplier)
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
    }

    /// The wait after `failures` failures in a row (1 or more), `random` drawing in 0...1.
    func delay(afterFailures failures: Int, random: Double) -> Duration {
        let ceiling = Self.seconds(maximumDelay)
        var grown = Self.seconds(initialDelay)
        for _ in 1..<max(1, failures) where grown < ceiling { grown *= multiplier }
        let capped = min(grown, ceiling)
        return .nanoseconds(Int64((capped / 2 + capped / 2 * random) * 1e9))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
