import Logging
import NIOCore
import SwitchboardCore

/// What a connection that negotiated multiplexing needs to start its session.
struct MultiplexPlan {
    var session: any WebSocketMultiplexSession
    /// The implicit channel: the physical request, its subprotocol and channel extensions.
    var implicit: OpenedLogicalChannel
    /// Client: how long opening a channel waits for the server's answer.
    var channelOpenTimeout: TimeAmount = .seconds(10)

    /// The plan for a connection whose negotiated `extensions` include a multiplexing one; `nil` otherwise.
    /// `setup` is only built for a multiplexed connection: a plain handshake pays nothing for it.
    static func make(extensions: [any WebSocketExtension], setup makeSetup: @autoclosure () -> MultiplexSessionSetup,
                     subprotocol: String?) -> MultiplexPlan? {
        guard let mux = extensions.lazy.compactMap({ $0 as? any WebSocketMultiplexingExtension }).first else { return nil }
        let setup = makeSetup()
        return MultiplexPlan(session: mux.makeSession(setup),
                             implicit: OpenedLogicalChannel(id: 1, request: setup.request, subprotocol: subprotocol,
                                                            extensions: mux.channelExtensions.map(\.name)))
    }
}

/// The async side of one upgraded connection: runs the handler, then closes.
///
/// A class, and `run` kept out of line: an idle connection's task is suspended
/// inside `run`, and every async frame on that path holds what it uses across
/// the suspension. One reference instead of the whole struct keeps those frames
/// (the task's memory while it waits) small.
final class UpgradedConnection: Sendable {
    /// The logical channels of a multiplexed connection. A class: a plain
    /// connection carries one pointer for it, not the channel's whole context.
    final class Multiplexed: Sendable {
        let implicit: MultiplexBridge.Endpoint
        let starts: AsyncStream<MultiplexBridge.ChannelStart>

        init(implicit: MultiplexBridge.Endpoint, starts: AsyncStream<MultiplexBridge.ChannelStart>) {
            self.implicit = implicit
            self.starts = starts
        }
    }

    let channel: any Channel
    /// What the peer sends, from the channel handler.
    let inbound: InboundBuffer
    let context: WebSocketContext
    let handler: any WebSocketHandler
    /// What the handler sends, on its way to the channel handler.
    let outbound: OutboundQueue
    /// The peer's close frame, once the channel is closed.
    let peerClose: EventLoopFuture<WebSocketCloseFrame?>
    let multiplexed: Multiplexed?
    /// The event loop's executor when the handler runs there (``WebSocketHandlerExecution/eventLoop``);
    /// `nil` for the global executor.
    let executor: EventLoopTaskExecutor?

    private init(channel: any Channel, inbound: InboundBuffer, context: WebSocketContext, handler: any WebSocketHandler,
                 outbound: OutboundQueue, peerClose: EventLoopFuture<WebSocketCloseFrame?>, multiplexed: Multiplexed?,
                 executor: EventLoopTaskExecutor?) {
        self.channel = channel
        self.inbound = inbound
        self.context = context
        self.handler = handler
        self.outbound = outbound
        self.peerClose = peerClose
        self.multiplexed = multiplexed
        self.executor = executor
    }

    /// Installs the WebSocket handler on a channel whose HTTP handshake is done.
    /// Call on the channel's event loop.
    static func install(on channel: any Channel, engine: WebSocketEngine, configuration: WebSocketConnectionConfiguration,
                        context: WebSocketContext, handler: any WebSocketHandler,
                        position: ChannelPipeline.SynchronousOperations.Position, multiplex plan: MultiplexPlan? = nil,
                        executor: EventLoopTaskExecutor?) throws -> UpgradedConnection {
        let peerClose = channel.eventLoop.makePromise(of: WebSocketCloseFrame?.self)
        let outbound = OutboundQueue(eventLoop: channel.eventLoop)
        let wsHandler = WebSocketChannelHandler(engine: engine, configuration: configuration, outbound: outbound, logger: context.logger,
                                                peerClose: peerClose)
        let bridge = plan.map { MultiplexBridge(session: $0.session, eventLoop: channel.eventLoop, configuration: configuration,
                                                logger: context.logger, role: context.role) }
        wsHandler.multiplex = bridge
        wsHandler.readerExecutor = executor
        try channel.pipeline.syncOperations.addHandler(wsHandler, position: position)
        var multiplexed: Multiplexed?
        if let bridge, let plan {
            let bound = NIOLoopBound(bridge, eventLoop: channel.eventLoop)
            let opener = context.role == .client
                ? MultiplexChannelOpener(bridge: bound, physicalRequest: context.request, openTimeout: plan.channelOpenTimeout) : nil
            bridge.start(physical: wsHandler, implicit: plan.implicit, opener: opener)
            multiplexed = Multiplexed(implicit: bridge.implicitChannel!, starts: bridge.starts)
        }
        return UpgradedConnection(channel: channel, inbound: wsHandler.inbound, context: context, handler: handler, outbound: outbound, peerClose: peerClose.futureResult,
                                  multiplexed: multiplexed, executor: executor)
    }

    /// ``run()`` for a server's task, which has no use for the peer's close frame.
    @inline(never)
    func serve() async { _ = await run() }

    /// Runs the handler; when it returns, closes with 1000 (1011 if it threw) and
    /// waits for the close handshake to end. Returns the peer's close frame.
    @discardableResult
    @inline(never)
    func run() async -> WebSocketCloseFrame? {
        if let multiplexed { return await run(multiplexed) }
        var failure: (any Error)?
        do {
            try await handler.handle(WebSocketInbound(inbound), WebSocketOutbound(AsyncChannelWriter(queue: outbound)), context: context)
        } catch {
            failure = error
        }
        Self.finish(outbound, after: failure, connectionOpen: channel.isActive, logger: context.logger)
        // The channel handler keeps reading until the close handshake ends or times out.
        return try? await peerClose.get()
    }

    /// Queues the close that follows a handler's return: 1000, or 1011 if it threw for a
    /// reason of its own (not because the connection closed or its task was cancelled).
    ///
    /// Synchronous and out of line on purpose: the logging here would otherwise sit in the
    /// async frames of ``run()``, which an idle connection's task keeps allocated while it waits.
    @inline(never)
    static func finish(_ queue: OutboundQueue, after failure: (any Error)?, connectionOpen: Bool, logger: Logger) {
        var (code, reason) = (WebSocketCloseCode.normalClosure, "")
        switch failure {
        case nil:
            break
        case let error? where !connectionOpen || error is WebSocketError || error is CancellationError:
            logger.debug("handler ended as the connection closed", metadata: ["error": "\(error)"])
        case let error?:
            logger.error("handler failed", metadata: ["error": "\(error)"])
            (code, reason) = (.internalServerError, "handler failed")
        }
        try? queue.enqueue(.finish(code, reason))
    }
}

extension UpgradedConnection {
    /// Runs a multiplexed connection: the handler on the implicit channel and, on a
    /// server, the handler each added channel's route chose, in one task group.
    ///
    /// A server keeps the physical connection until the client closes it (or
    /// shutdown, heartbeat or idle timeout ends it), however many channels come and
    /// go; a client closes it when its handler on the implicit channel returns.
    @inline(never)
    private func run(_ multiplexed: Multiplexed) async -> WebSocketCloseFrame? {
        let handler = self.handler
        // Discarding: a plain task group keeps every finished child until it is awaited, and
        // nothing awaits them one by one here, so each channel ever opened stayed in memory
        // (about 2.7 KB) until the physical connection closed.
        await withDiscardingTaskGroup { group in
            group.addTask { await Self.run(handler, on: multiplexed.implicit) }
            if context.role == .server {
                for await start in multiplexed.starts {
                    group.addTask { await Self.run(start.handler, on: start.endpoint) }
                }
            }
        }
        try? outbound.enqueue(.finish(.normalClosure, ""))
        return try? await peerClose.get()
    }

    /// Runs one logical channel's handler, then finishes the channel with 1000 (1011 if it threw),
    /// behind whatever the handler queued last.
    private static func run(_ handler: any WebSocketHandler, on endpoint: MultiplexBridge.Endpoint) async {
        let channel = endpoint.channel
        var failure: (any Error)?
        do {
            try await handler.handle(channel.inbound, channel.outbound, context: channel.context)
        } catch {
            failure = error
        }
        finish(endpoint.outbound, after: failure, connectionOpen: true, logger: channel.context.logger)
    }
}

/// The handler's ``WebSocketOutbound``: sends go through the connection's
/// ``OutboundQueue``, which batches them for the event loop and suspends a
/// sender only while too many bytes are on their way (backpressure).
struct AsyncChannelWriter: WebSocketOutboundWriter {
    let queue: OutboundQueue

    func write(_ message: WebSocketMessage) async throws { try await queue.send(.message(message)) }
    func ping(_ payload: ByteBuffer) async throws { try await queue.send(.ping(payload)) }
    /// A close does not wait for room: it must get out even to a peer that does not read (the close timeout bounds it).
    func close(code: WebSocketCloseCode, reason: String) async throws { try queue.enqueue(.close(code, reason)) }
}
