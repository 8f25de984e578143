import NIOCore
import SwitchboardCore

/// A client's request for a logical channel, from the moment it is made until the
/// session answers it or the caller stops waiting (its time is up, or its task is
/// cancelled). Lives on the connection's event loop.
///
/// The session may still grant a channel after its caller has gone: ``settle(_:)``
/// then says so, and the carrier closes that channel at once, as if its handler had
/// returned, so the server does not keep a channel nobody uses.
final class PendingChannelOpen {
    let promise: EventLoopPromise<WebSocketLogicalChannel>
    private var timer: Scheduled<Void>?
    private(set) var abandoned = false

    init(eventLoop: any EventLoop, timeout: TimeAmount) {
        promise = eventLoop.makePromise(of: WebSocketLogicalChannel.self)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        timer = eventLoop.scheduleTask(in: timeout) {
            bound.value.abandon(MultiplexError.channelRefused("no answer from the server within \(timeout)"))
        }
    }

    /// The caller stops waiting: the wait fails with `error`.
    func abandon(_ error: any Error) {
        guard !abandoned else { return }
        abandoned = true
        timer?.cancel()
        promise.fail(error)
    }

    /// The session granted the channel: hands it over. Returns `false` when nobody waits any more.
    func settle(_ channel: WebSocketLogicalChannel) -> Bool {
        timer?.cancel()
        guard !abandoned else { return false }
        promise.succeed(channel)
        return true
    }

    /// The session refused the channel.
    func fail(_ error: any Error) {
        timer?.cancel()
        if !abandoned { promise.fail(error) }
    }
}
