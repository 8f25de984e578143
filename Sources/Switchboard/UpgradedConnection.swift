import Logging
import NIOCore
import SwitchboardCore
import Tracing

/// The async side of one upgraded connection: runs the handler, then closes.
///
/// A class, and `run` kept out of line: an idle connection's task is suspended
/// inside `run`, and every async frame on that path holds what it uses across
/// the suspension. One reference instead of the whole struct keeps those frames
/// (the task's memory while it waits) small.
final class UpgradedConnection: Sendable {
    /// The sessions of a connection that negotiated a ``WebSocketSessionExtension``. A class:
    /// a plain connection carries one pointer for it, not a session's whole context.
    final class Sessions: Sendable {
        /// Where the connection's own handler runs.
        let primary: SessionHost.Start
        let starts: AsyncStream<SessionHost.Start>

        init(primary: SessionHost.Start, starts: AsyncStream<SessionHost.Start>) {
            self.primary = primary
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
    let sessions: Sessions?
    /// The event loop's executor when the handler runs there (``WebSocketHandlerExecution/eventLoop``);
    /// `nil` for the global executor.
    let executor: EventLoopTaskExecutor?
    /// The trace context the handler runs in: its handshake's span (``HandshakeSpan``), when a tracer records one.
    let traceContext: ServiceContext?
    /// The handler is a ``WebSocketLoopHandler`` the channel handler calls itself: the task only waits for the close.
    let runsOnLoop: Bool

    private init(
        channel: any Channel, inbound: InboundBuffer, context: WebSocketContext, handler: any WebSocketHandler,
        outbound: OutboundQueue, peerClose: EventLoopFuture<WebSocketCloseFrame?>, sessions: Sessions?,
        executor: EventLoopTaskExecutor?, traceContext: ServiceContext?, runsOnLoop: Bool
    ) {
        self.runsOnLoop = runsOnLoop
        self.traceContext = traceContext
        self.channel = channel
        self.inbound = inbound
        self.context = context
        self.handler = handler
        self.outbound = outbound
        self.peerClose = peerClose
        self.sessions = sessions
        self.executor = executor
    }

    /// Installs the WebSocket handler on a channel whose HTTP handshake is done.
    /// Call on the channel's event loop.
    static func install(
        on channel: any Channel, engine: WebSocketEngine, configuration: WebSocketConnectionConfiguration,
        context: WebSocketContext, handler: any WebSocketHandler,
        position: ChannelPipeline.SynchronousOperations.Position, sessions plan: SessionPlan? = nil,
        executor: EventLoopTaskExecutor?, route: String = "", traceContext: ServiceContext? = nil
    ) throws -> UpgradedConnection {
        let peerClose = channel.eventLoop.makePromise(of: WebSocketCloseFrame?.self)
        let outbound = OutboundQueue(eventLoop: channel.eventLoop)
        let wsHandler = WebSocketChannelHandler(
            engine: engine, configuration: configuration, outbound: outbound, logger: context.logger,
            peerClose: peerClose, eventLoop: channel.eventLoop,
            metrics: ConnectionMetrics.shared(role: context.role, route: route, subprotocol: context.subprotocol))
        let host = plan.map { SessionHost(context: context, configuration: configuration, plan: $0, channel: channel) }
        wsHandler.sessions = host
        // A loop handler runs inside the channel handler's reads; on a carried session it runs
        // through its async fallback like any handler.
        let runsOnLoop = plan == nil && handler is any WebSocketLoopHandler
        if runsOnLoop, let loopHandler = handler as? any WebSocketLoopHandler { wsHandler.loopHandler = (loopHandler, context) }
        wsHandler.readerExecutor = executor
        try channel.pipeline.syncOperations.addHandler(wsHandler, position: position)
        var sessions: Sessions?
        if let host, let plan {
            let primary = host.start(plan.sessionExtension.makeSessionCarrier(host: host), sink: wsHandler, handler: handler)
            sessions = Sessions(primary: primary, starts: host.starts)
        }
        return UpgradedConnection(
            channel: channel, inbound: wsHandler.inbound, context: context, handler: handler, outbound: outbound, peerClose: peerClose.futureResult,
            sessions: sessions, executor: executor, traceContext: traceContext, runsOnLoop: runsOnLoop)
    }

    /// ``run()`` for a server's task, which has no use for the peer's close frame.
    @inline(never)
    func serve() async { _ = await run() }

    /// Runs the handler; when it returns, closes with 1000 (1011 if it threw) and
    /// waits for the close handshake to end. Returns the peer's close frame.
    @discardableResult
    @inline(never)
    func run() async -> WebSocketCloseFrame? {
        if let traceContext { return await ServiceContext.withValue(traceContext) { await runHandlers() } }
        return await runHandlers()
    }

    @inline(never)
    private func runHandlers() async -> WebSocketCloseFrame? {
        if runsOnLoop { return try? await peerClose.get() }
        if let sessions { return await run(sessions) }
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
    /// Runs a connection that carries sessions: the connection's own handler where its
    /// carrier put it and, on a server, the handler of each session the carrier starts,
    /// in one task group.
    ///
    /// A server keeps the connection until the client closes it (or shutdown, heartbeat
    /// or idle timeout ends it), however many sessions come and go; a client closes it
    /// when its own handler returns.
    @inline(never)
    private func run(_ sessions: Sessions) async -> WebSocketCloseFrame? {
        // Discarding: a plain task group keeps every finished child until it is awaited, and
        // nothing awaits them one by one here, so each session ever opened stayed in memory
        // (about 2.7 KB) until the connection closed.
        await withDiscardingTaskGroup { group in
            group.addTask { await Self.run(sessions.primary) }
            if context.role == .server {
                for await start in sessions.starts {
                    group.addTask { await Self.run(start) }
                }
            }
        }
        try? outbound.enqueue(.finish(.normalClosure, ""))
        return try? await peerClose.get()
    }

    /// Runs one session's handler, then finishes the session with 1000 (1011 if it threw),
    /// behind whatever the handler queued last.
    private static func run(_ start: SessionHost.Start) async {
        let session = start.session
        var failure: (any Error)?
        do {
            try await start.handler.handle(session.inbound, session.outbound, context: session.context)
        } catch {
            failure = error
        }
        finish(start.outbound, after: failure, connectionOpen: true, logger: session.context.logger)
    }
}
