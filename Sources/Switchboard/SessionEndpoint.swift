import NIOCore
import SwitchboardCore

/// A carried session's endpoint: what a socket's handler gets (an ``InboundBuffer``
/// with its backpressure, an ``OutboundQueue`` drained a batch at a time), with the
/// session's carrier where the socket's engine would be.
///
/// Lives on the connection's event loop; only ``session`` crosses to the handler's task.
final class SessionEndpoint: WebSocketSessionEndpoint {
    /// Bytes of the handler's messages handed to the delegate and not yet sent, above
    /// which its sends wait: as a socket's queue, one large message at a time.
    static let highWatermark = OutboundQueue.highWatermark

    let session: WebSocketSession
    /// Where the handler's messages wait for the event loop (and its end is queued, after them).
    let outbound: OutboundQueue
    private let inbound: InboundBuffer
    private let delegate: any WebSocketSessionDelegate
    private weak var host: SessionHost?
    private var inboundOpen = true
    private var closed = false
    private var unsent = 0

    init(
        context: WebSocketContext, delegate: any WebSocketSessionDelegate, host: SessionHost,
        configuration: WebSocketConnectionConfiguration
    ) {
        inbound = InboundBuffer(bufferedMessages: configuration.inboundBufferedMessages, bufferedBytes: configuration.inboundBufferedBytes)
        outbound = OutboundQueue(eventLoop: host.eventLoop)
        session = WebSocketSession(
            inbound: WebSocketInbound(inbound), outbound: WebSocketOutbound(AsyncChannelWriter(queue: outbound)),
            context: context)
        self.delegate = delegate
        self.host = host
        // Each resumption and each drain is queued on its own: a session's reader is not run
        // inside the connection's read, and its queue does not wait for read-complete.
        let bound = NIOLoopBound(self, eventLoop: host.eventLoop)
        inbound.onDemand { bound.eventLoop.execute { bound.value.readMore() } }
        outbound.attach { bound.value.drain() }
    }

    func deliver(_ message: WebSocketMessage) -> Bool {
        guard inboundOpen else { return true }
        return inbound.yield(message)
    }

    func endInbound(failed: Bool) {
        guard inboundOpen else { return }
        inboundOpen = false
        inbound.finish(throwing: failed ? WebSocketError.connectionClosed : nil)
    }

    func close() {
        guard !closed else { return }
        closed = true
        endInbound(failed: true)
        outbound.detach()
        unsent = 0
        host?.forget(self)
    }

    /// Hands what the handler queued to the delegate, then tells the queue whether the
    /// handler may go on (at most ``highWatermark`` bytes unsent).
    private func drain() {
        guard !closed else { return }
        for command in outbound.takeAll() {
            switch command {
            case .message(let message):
                let size = message.data.readableBytes
                unsent += size
                delegate.send(message) { [weak self] _ in self?.sent(size) }
            case .ping(let payload):
                delegate.ping(payload)
            case .close(let code, let reason):
                delegate.close(code: code, reason: reason)
            case .finish(let code, let reason):
                delegate.handlerFinished(code: code, reason: reason)
            }
        }
        if !closed { outbound.drained(channelWritable: unsent <= Self.highWatermark) }
        host?.flush()
    }

    /// The delegate sent (or dropped) a message of `size` bytes.
    private func sent(_ size: Int) {
        guard !closed else { return }
        unsent -= size
        if unsent <= Self.highWatermark { outbound.channelWritabilityChanged(true) }
    }

    private func readMore() {
        guard !closed else { return }
        delegate.readMore()
        host?.flush()
    }
}
