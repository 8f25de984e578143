import Logging
import NIOCore
import SwitchboardCore

/// Runs a multiplexing session on a physical connection's event loop and
/// gives each logical channel what a socket's handler gets: an inbound
/// sequence with backpressure and an outbound writer.
///
/// The session is sans-I/O; this is its host. Everything here runs on the
/// event loop. A channel's handler sends through an ``OutboundQueue`` of its
/// own, drained here a batch per event-loop turn, as a socket's handler does;
/// its reader's demand comes back through its ``InboundBuffer``.
final class MultiplexBridge: WebSocketMultiplexHost {

    /// A channel's async face and its outbound queue (through which its handler's end is queued, after its messages).
    struct Endpoint: Sendable {
        var channel: WebSocketLogicalChannel
        var id: LogicalChannelID
        var outbound: OutboundQueue
    }

    /// A channel the peer opened, for the connection's task group to run a handler on.
    struct ChannelStart: Sendable {
        var endpoint: Endpoint
        var handler: any WebSocketHandler
    }

    /// Bytes of a channel's messages handed to the session and not yet sent, above
    /// which its handler's sends wait: as a socket's queue, one large message at a time.
    static let channelHighWatermark = OutboundQueue.highWatermark

    let session: any WebSocketMultiplexSession
    let eventLoop: any EventLoop
    let configuration: WebSocketConnectionConfiguration
    let logger: Logger
    let role: WebSocketRole
    /// Server: channels the peer opens, in order; ends when the physical connection closes.
    let starts: AsyncStream<ChannelStart>
    private let startsContinuation: AsyncStream<ChannelStart>.Continuation
    private weak var physical: WebSocketChannelHandler?
    private var inbound: [LogicalChannelID: InboundBuffer] = [:]
    private var outbound: [LogicalChannelID: OutboundQueue] = [:]
    private var unsent: [LogicalChannelID: Int] = [:]
    private var closeTimers: [LogicalChannelID: Scheduled<Void>] = [:]
    private var ended = false
    /// The implicit channel, made when the session starts.
    private(set) var implicitChannel: Endpoint?

    init(session: any WebSocketMultiplexSession, eventLoop: any EventLoop, configuration: WebSocketConnectionConfiguration,
         logger: Logger, role: WebSocketRole) {
        self.session = session
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.role = role
        (starts, startsContinuation) = AsyncStream.makeStream(of: ChannelStart.self)
    }

    /// Starts the session once the physical handler is in the pipeline.
    func start(physical: WebSocketChannelHandler, implicit: OpenedLogicalChannel, opener: (any WebSocketChannelOpener)?) {
        self.physical = physical
        var endpoint = makeChannel(implicit)
        endpoint.channel.context.values[WebSocketChannelOpenerKey.self] = opener
        implicitChannel = endpoint
        session.start(host: self)
        physical.flushMultiplexed()
    }

    /// Makes the async face of a channel; call before the session can deliver to it.
    func makeChannel(_ opened: OpenedLogicalChannel) -> Endpoint {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let id = opened.id
        let messages = InboundBuffer(bufferedMessages: configuration.inboundBufferedMessages,
                                     bufferedBytes: configuration.inboundBufferedBytes)
        messages.onDemand { bound.eventLoop.execute { bound.value.readMore(id) } }
        inbound[id] = messages
        let queue = OutboundQueue(eventLoop: eventLoop)
        queue.attach { bound.value.drain(id) }
        outbound[id] = queue
        var channelLogger = logger
        channelLogger[metadataKey: "channel"] = "\(id)"
        let context = WebSocketContext(request: opened.request, subprotocol: opened.subprotocol, extensions: opened.extensions,
                                       role: role, logger: channelLogger)
        let channel = WebSocketLogicalChannel(inbound: WebSocketInbound(messages), outbound: WebSocketOutbound(AsyncChannelWriter(queue: queue)),
                                              context: context)
        return Endpoint(channel: channel, id: id, outbound: queue)
    }

    // MARK: From the async side (on the event loop)

    /// Hands what a channel's handler queued to the session, then tells the queue
    /// whether the handler may go on (fewer than ``channelHighWatermark`` bytes unsent).
    private func drain(_ channel: LogicalChannelID) {
        guard let queue = outbound[channel] else { return }
        for command in queue.takeAll() {
            switch command {
            case .message(let message):
                let size = message.data.readableBytes
                unsent[channel, default: 0] += size
                session.send(message, on: channel) { [weak self] _ in self?.sent(size, on: channel) }
            case .ping(let payload):
                try? session.ping(payload, on: channel)
            case .close(let code, let reason):
                session.close(channel, code: code, reason: reason)
                scheduleCloseTimer(channel)
            case .finish(let code, let reason):
                session.finish(channel, code: code, reason: reason)
                scheduleCloseTimer(channel)
            }
        }
        queue.channelWritabilityChanged(unsent[channel, default: 0] <= Self.channelHighWatermark)
        physical?.flushMultiplexed()
    }

    /// The session sent (or dropped) a message of `size` bytes on `channel`.
    private func sent(_ size: Int, on channel: LogicalChannelID) {
        guard let left = unsent[channel] else { return }
        unsent[channel] = left - size
        if left - size <= Self.channelHighWatermark { outbound[channel]?.channelWritabilityChanged(true) }
    }

    func readMore(_ channel: LogicalChannelID) {
        session.readMore(channel)
        physical?.flushMultiplexed()
    }

    /// Client: opens a channel; the future holds its async face.
    /// A server that never grants a slot or never answers fails the wait after `timeout`.
    func open(_ request: HandshakeRequest, subprotocols: [String], timeout: TimeAmount) -> PendingChannelOpen {
        let pending = PendingChannelOpen(eventLoop: eventLoop, timeout: timeout)
        session.openChannel(request: request, subprotocols: subprotocols) { result in
            pending.settle(result.map { self.makeChannel($0) })
        }
        physical?.flushMultiplexed()
        return pending
    }

    // MARK: From the physical connection

    func physicalWritabilityChanged() {
        session.physicalWritabilityChanged()
        physical?.flushMultiplexed()
    }

    /// The physical connection is closing or gone: every channel ends, and no more start.
    func physicalClosed() {
        guard !ended else { return }
        ended = true
        session.physicalClosed()
        for messages in inbound.values { messages.finish(throwing: WebSocketError.connectionClosed) }
        inbound.removeAll()
        for queue in outbound.values { queue.detach() }
        outbound.removeAll()
        unsent.removeAll()
        for timer in closeTimers.values { timer.cancel() }
        closeTimers.removeAll()
        startsContinuation.finish()
    }

    private func scheduleCloseTimer(_ channel: LogicalChannelID) {
        guard closeTimers[channel] == nil, !ended else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        closeTimers[channel] = eventLoop.scheduleTask(in: configuration.closeTimeout) {
            let bridge = bound.value
            bridge.closeTimers[channel] = nil
            bridge.session.closeTimedOut(channel)
            bridge.physical?.flushMultiplexed()
        }
    }

    // MARK: WebSocketMultiplexHost

    func sendPhysical(_ message: WebSocketMessage) {
        physical?.sendMultiplexed(message)
    }

    var isPhysicalWritable: Bool { physical?.isWritable ?? false }

    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler) {
        startsContinuation.yield(ChannelStart(endpoint: makeChannel(channel), handler: handler))
    }

    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool {
        guard let messages = inbound[channel] else { return true }
        return messages.yield(message)
    }

    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool) {
        guard let messages = inbound.removeValue(forKey: channel) else { return }
        messages.finish(throwing: failed ? WebSocketError.connectionClosed : nil)
    }

    func channelClosed(_ channel: LogicalChannelID) {
        inboundEnded(channel, close: nil, failed: true)
        closeTimers.removeValue(forKey: channel)?.cancel()
        outbound.removeValue(forKey: channel)?.detach()
        unsent[channel] = nil
    }

    func failPhysical(code: WebSocketCloseCode, reason: String) {
        physical?.failMultiplexed(code: code, reason: reason)
        physicalClosed()
    }
}

/// Opens channels for a client's handler (Multiplex's `WebSocketContext.openChannel(path:subprotocols:headers:)`).
struct MultiplexChannelOpener: WebSocketChannelOpener {
    let bridge: NIOLoopBound<MultiplexBridge>
    /// The physical request, whose `Host` and extra fields (`Origin`, `Authorization`) every channel repeats.
    let physicalRequest: HandshakeRequest
    /// How long an open waits for the server (the client's handshake timeout).
    let openTimeout: TimeAmount

    func openChannel(path: String, subprotocols: [String], headers: HandshakeHeaders) async throws -> WebSocketLogicalChannel {
        var fields: HandshakeHeaders = ["Host": physicalRequest.headers.single("Host") ?? "localhost", "Connection": "Upgrade"]
        if !subprotocols.isEmpty { fields.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", ")) }
        let settled: Set<String> = ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                                    "sec-websocket-protocol", "sec-websocket-extensions"]
        for field in physicalRequest.headers where !settled.contains(field.name.lowercased()) { fields.add(name: field.name, value: field.value) }
        for field in headers { fields.replaceOrAdd(name: field.name, value: field.value) }
        let request = HandshakeRequest(target: path, headers: fields)
        let (bridge, timeout) = (self.bridge, openTimeout)
        let (answer, pending) = try await bridge.eventLoop.submit {
            let pending = bridge.value.open(request, subprotocols: subprotocols, timeout: timeout)
            return (pending.promise.futureResult, NIOLoopBound(pending, eventLoop: bridge.eventLoop))
        }.get()
        return try await withTaskCancellationHandler {
            try await answer.get()
        } onCancel: {
            pending.eventLoop.execute { pending.value.abandon(CancellationError()) }
        }
    }
}
