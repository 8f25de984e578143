import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// Records what ``ConnectionTimers`` asks of its connection.
final class RecordingTimerDelegate: ConnectionTimerDelegate, @unchecked Sendable {
    private let lock = NIOLock()
    private var _events: [String] = []
    /// What ``pongOverdue()`` answers: `true` gives the pong another timeout.
    var pongMayWait = false

    var events: [String] { lock.withLock { _events } }
    private func record(_ event: String) { lock.withLock { _events.append(event) } }

    func heartbeatDue() { record("heartbeat") }
    func pongOverdue() -> Bool {
        record("pong overdue")
        return pongMayWait
    }
    func idleTimedOut() { record("idle") }
    func quietLongEnoughToReleaseMemory() { record("release memory") }
    func closeTimedOut() { record("close timeout") }
}

@Suite("ConnectionTimers: a connection's clocks, apart from its channel handler")
struct ConnectionTimersTests {
    static func configuration(ping: TimeAmount? = nil, idle: TimeAmount? = nil, release: TimeAmount? = nil) -> WebSocketConnectionConfiguration {
        WebSocketConnectionConfiguration(
            pingInterval: ping, pingTimeout: .seconds(2), idleTimeout: idle, closeTimeout: .seconds(3),
            releaseIdleMemoryAfter: release)
    }

    @Test("A heartbeat every ping interval; no pong within the ping timeout is overdue once; a pong in time is not")
    func heartbeat() {
        let loop = EmbeddedEventLoop()
        let delegate = RecordingTimerDelegate()
        let timers = ConnectionTimers(configuration: Self.configuration(ping: .seconds(5)), releasesMemory: false, eventLoop: loop)
        timers.start(delegate: delegate)
        loop.advanceTime(by: .seconds(4))
        #expect(delegate.events.isEmpty)
        loop.advanceTime(by: .seconds(1))
        #expect(delegate.events == ["heartbeat"])
        timers.pingSent()
        #expect(timers.awaitingPong)
        timers.pongReceived()
        loop.advanceTime(by: .seconds(3))
        #expect(delegate.events == ["heartbeat"] && !timers.awaitingPong)
        loop.advanceTime(by: .seconds(2))
        timers.pingSent()
        loop.advanceTime(by: .seconds(2))
        #expect(delegate.events == ["heartbeat", "heartbeat", "pong overdue"])
        #expect(!timers.awaitingPong)
        timers.stopAll()
    }

    @Test("An overdue pong the delegate says may wait unread gets another ping timeout")
    func pongMayWait() {
        let loop = EmbeddedEventLoop()
        let delegate = RecordingTimerDelegate()
        delegate.pongMayWait = true
        let timers = ConnectionTimers(configuration: Self.configuration(), releasesMemory: false, eventLoop: loop)
        timers.start(delegate: delegate)
        timers.pingSent()
        loop.advanceTime(by: .seconds(2))
        #expect(delegate.events == ["pong overdue"] && timers.awaitingPong)
        delegate.pongMayWait = false
        loop.advanceTime(by: .seconds(2))
        #expect(delegate.events == ["pong overdue", "pong overdue"] && !timers.awaitingPong)
    }

    @Test("The close timeout starts once, survives stopLiveness, and stopAll cancels it")
    func closeTimeout() {
        let loop = EmbeddedEventLoop()
        let delegate = RecordingTimerDelegate()
        let timers = ConnectionTimers(configuration: Self.configuration(ping: .seconds(1)), releasesMemory: false, eventLoop: loop)
        timers.start(delegate: delegate)
        timers.stopLiveness()
        timers.startCloseTimeout()
        loop.advanceTime(by: .seconds(2))
        timers.startCloseTimeout()  // already running: not pushed back
        loop.advanceTime(by: .seconds(1))
        #expect(delegate.events == ["close timeout"])

        let second = RecordingTimerDelegate()
        let stopped = ConnectionTimers(configuration: Self.configuration(), releasesMemory: false, eventLoop: loop)
        stopped.start(delegate: second)
        stopped.startCloseTimeout()
        stopped.stopAll()
        loop.advanceTime(by: .seconds(10))
        #expect(second.events.isEmpty)
    }

    @Test("Idle and memory release fire after a quiet period, not while messages keep the connection busy; once each")
    func quietPeriods() {
        let loop = EmbeddedEventLoop()
        let delegate = RecordingTimerDelegate()
        let timers = ConnectionTimers(
            configuration: Self.configuration(idle: .milliseconds(800), release: .milliseconds(400)),
            releasesMemory: true, eventLoop: loop)
        timers.start(delegate: delegate)
        // Busy for 2 s: a message every 50 ms, far longer than both quiet periods.
        for _ in 0..<40 {
            loop.advanceTime(by: .milliseconds(50))
            timers.noteActivity(closing: false)
        }
        #expect(delegate.events.isEmpty, "fired while busy: \(delegate.events)")
        loop.advanceTime(by: .milliseconds(399))
        #expect(delegate.events.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(delegate.events == ["release memory"])
        loop.advanceTime(by: .milliseconds(400))
        #expect(delegate.events == ["release memory", "idle"])
        loop.advanceTime(by: .seconds(5))
        #expect(delegate.events == ["release memory", "idle"])
        // The next message sets the memory clock again; closing, it does not.
        timers.noteActivity(closing: false)
        loop.advanceTime(by: .milliseconds(400))
        #expect(delegate.events == ["release memory", "idle", "release memory"])
        timers.noteActivity(closing: true)
        loop.advanceTime(by: .seconds(1))
        #expect(delegate.events == ["release memory", "idle", "release memory"])
    }
}
