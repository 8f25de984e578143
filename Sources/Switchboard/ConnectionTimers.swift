import NIOCore

/// What a connection does when one of its clocks runs out; ``ConnectionTimers`` calls it on
/// the event loop.
protocol ConnectionTimerDelegate: AnyObject {
    /// Time for a heartbeat ping. Call ``ConnectionTimers/pingSent()`` if one went out.
    func heartbeatDue()
    /// No pong within the ping timeout. Return `true` to give it another timeout (the pong
    /// may be waiting unread), `false` when the connection is being closed for it.
    func pongOverdue() -> Bool
    /// No data message either way for the idle timeout.
    func idleTimedOut()
    /// No data message either way for ``WebSocketConnectionConfiguration/releaseIdleMemoryAfter``.
    func quietLongEnoughToReleaseMemory()
    /// The close handshake did not end within the close timeout.
    func closeTimedOut()
}

/// The clocks of one connection: the heartbeat and its pong deadline, the idle timeout,
/// the release of idle memory, and the close timeout. It owns the scheduled tasks and
/// knows when each is due; what happens then is its delegate's.
///
/// Quiet periods cost one scheduled task each, not one per message: a message only notes
/// the time, and a timer that fires early is set again for the quiet period after it.
/// Lives on the connection's event loop.
final class ConnectionTimers {
    // Only the durations, not the whole configuration: the handler keeps that, and every
    // connection holds one of these for its lifetime.
    private let pingInterval: TimeAmount?
    private let pingTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let closeTimeout: TimeAmount
    private let eventLoop: any EventLoop
    private weak var delegate: (any ConnectionTimerDelegate)?
    /// How long a quiet connection waits before its extensions free memory; `nil` when there is nothing to free.
    private let releaseIdleMemoryAfter: TimeAmount?
    /// When the last data message went either way, on the loop's clock (virtual on an `EmbeddedEventLoop`).
    private var lastActivity: NIODeadline
    private var pingTimer: RepeatedTask?
    private var pongDeadline: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var memoryTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?

    init(configuration: WebSocketConnectionConfiguration, releasesMemory: Bool, eventLoop: any EventLoop) {
        self.pingInterval = configuration.pingInterval
        self.pingTimeout = configuration.pingTimeout
        self.idleTimeout = configuration.idleTimeout
        self.closeTimeout = configuration.closeTimeout
        self.eventLoop = eventLoop
        self.lastActivity = eventLoop.now
        self.releaseIdleMemoryAfter = releasesMemory ? configuration.releaseIdleMemoryAfter : nil
    }

    /// Starts the heartbeat and the quiet-period clocks.
    func start(delegate: any ConnectionTimerDelegate) {
        self.delegate = delegate
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        if let interval = pingInterval {
            pingTimer = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in bound.value.delegate?.heartbeatDue() }
        }
        if let idle = idleTimeout {
            whenQuiet(for: idle, from: eventLoop.now + idle, timer: \.idleTimer) { $0.idleTimedOut() }
        }
        if let quiet = releaseIdleMemoryAfter {
            scheduleMemoryRelease(at: eventLoop.now + quiet, quiet: quiet)
        }
    }

    /// Stops every clock but the close timeout: the connection is closing.
    func stopLiveness() {
        pingTimer?.cancel()
        pingTimer = nil
        pongDeadline?.cancel()
        pongDeadline = nil
        idleTimer?.cancel()
        idleTimer = nil
        memoryTimer?.cancel()
        memoryTimer = nil
    }

    /// Stops every clock: the connection is gone.
    func stopAll() {
        stopLiveness()
        closeTimer?.cancel()
        closeTimer = nil
    }

    // MARK: Heartbeat

    /// A heartbeat ping is out and no pong is awaited yet.
    var awaitingPong: Bool { pongDeadline != nil }

    /// A heartbeat ping went out: the pong is due within the ping timeout.
    func pingSent() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        pongDeadline = eventLoop.scheduleTask(in: pingTimeout) {
            let timers = bound.value
            timers.pongDeadline = nil
            if timers.delegate?.pongOverdue() == true { timers.pingSent() }
        }
    }

    func pongReceived() {
        pongDeadline?.cancel()
        pongDeadline = nil
    }

    // MARK: Quiet periods

    /// A data message went one way or the other: the idle clocks restart.
    func noteActivity(closing: Bool) {
        lastActivity = eventLoop.now
        if memoryTimer == nil, !closing, let quiet = releaseIdleMemoryAfter {
            scheduleMemoryRelease(at: lastActivity + quiet, quiet: quiet)
        }
    }

    /// Set again by the next message (``noteActivity(closing:)``) once it has fired.
    private func scheduleMemoryRelease(at deadline: NIODeadline, quiet: TimeAmount) {
        whenQuiet(for: quiet, from: deadline, timer: \.memoryTimer) { $0.quietLongEnoughToReleaseMemory() }
    }

    /// Calls `action` once no data message has gone either way for `quiet`, keeping the timer in `timer`.
    private func whenQuiet(
        for quiet: TimeAmount, from deadline: NIODeadline, timer: ReferenceWritableKeyPath<ConnectionTimers, Scheduled<Void>?>,
        _ action: @escaping (any ConnectionTimerDelegate) -> Void
    ) {
        let bound = NIOLoopBound((self, timer, action), eventLoop: eventLoop)
        self[keyPath: timer] = eventLoop.scheduleTask(deadline: deadline) {
            let (timers, timer, action) = bound.value
            let due = timers.lastActivity + quiet
            if due <= timers.eventLoop.now {
                timers[keyPath: timer] = nil
                if let delegate = timers.delegate { action(delegate) }
            } else {
                timers.whenQuiet(for: quiet, from: due, timer: timer, action)
            }
        }
    }

    // MARK: Closing

    /// Starts the close timeout, unless it runs already.
    func startCloseTimeout() {
        guard closeTimer == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        closeTimer = eventLoop.scheduleTask(in: closeTimeout) { bound.value.delegate?.closeTimedOut() }
    }
}
