import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SwitchboardCore

/// A WebSocket server: HTTP/1.1 upgrade, plain HTTP for everything else, ws or wss.
///
/// ```swift
/// var routes = WebSocketRoutes()
/// var chat = SubprotocolRegistry()
/// chat.register("chat.v1") { inbound, outbound, context in
///     for try await message in inbound { try await outbound.send(message) }
/// }
/// routes.add("/chat", chat)
/// let server = WebSocketServer(configuration: .init(port: 8080, routes: routes))
/// try await server.run()
/// ```
///
/// It is a swift-service-lifecycle `Service`: in a `ServiceGroup`, the group's graceful shutdown
/// (SIGTERM, say) stops it as ``shutdown()`` does.
public final class WebSocketServer: Service, Sendable {
    public let configuration: WebSocketServerConfiguration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())
    /// The descriptor held back for when accept runs out of them.
    private let reserve = DescriptorReserve()
    /// Every connection's read-buffer sizing, from ``WebSocketServerConfiguration/initialReadBufferSize``.
    private let readAllocator: AdaptiveRecvByteBufferAllocator

    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
        /// The listener is closed: a connection that upgrades now is closed at once.
        var listenerClosed = false
        /// Those waiting for ``connections`` to be empty (``run(onListening:)`` as it returns).
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    public init(
        configuration: WebSocketServerConfiguration, logger: Logger = Logger(label: "switchboard.server"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        self.readAllocator = AdaptiveRecvByteBufferAllocator(
            minimum: 64, initial: min(65536, max(64, configuration.initialReadBufferSize)), maximum: 65536)
    }

    /// Serves until ``shutdown()`` is called, the task is cancelled or its `ServiceGroup` shuts
    /// down gracefully, then closes every connection with 1001 and returns when they are gone.
    public func run() async throws { try await run(onListening: { _ in }) }

    /// Serves until ``shutdown()`` is called, the task is cancelled or its `ServiceGroup` shuts
    /// down gracefully, then closes every connection with 1001 and returns when they are gone.
    ///
    /// - Parameter onListening: called with the bound address (useful with port 0).
    public func run(onListening: @escaping @Sendable (SocketAddress) -> Void) async throws {
        let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let handshake = WebSocketServerHandshake(
            routes: configuration.routes, extensions: configuration.extensions,
            originPolicy: configuration.originPolicy)
        // Connections come here once upgraded: a connection has no task while its handshake runs,
        // and one that never upgrades (plain HTTP, a refused or timed-out handshake) never gets one.
        let (upgrades, upgraded) = AsyncStream.makeStream(of: UpgradedConnection.self)
        // One per loop when handlers run on their loop; `nil` for the global executor.
        let executors = configuration.connection.handlerExecution == .eventLoop ? EventLoopTaskExecutors(group) : nil
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.maxMessagesPerRead, value: UInt(max(1, configuration.acceptsPerWakeup)))
                // No child channel options: NIO applies them through a chain of futures, one link per
                // option, for every accepted socket (6% of a handshake's CPU with two). TCP_NODELAY,
                // which NIO sets on the listener, is copied into accepted sockets by Linux and the
                // BSDs (Darwin included), as bare NIO relies on; the read buffer's allocator is set
                // in `configure`, directly.
                .serverChannelInitializer { [logger, reserve] listener in
                    listener.eventLoop.makeCompletedFuture {
                        try listener.pipeline.syncOperations.addHandler(Self.acceptBackoff(reserve: reserve, logger: logger))
                    }
                }
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.configure(channel, handshake: handshake, sslContext: sslContext, executors: executors, upgraded: upgraded)
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            upgraded.finish()
            throw error
        }
        // No more connections once the listener is gone; those that upgrade after it are closed.
        listener.closeFuture.whenComplete { _ in
            self.state.withLockedValue { $0.listenerClosed = true }
            upgraded.finish()
        }
        let (address, alreadyStopping) = state.withLockedValue { state -> (SocketAddress?, Bool) in
            state.listener = listener
            return (listener.localAddress, state.shuttingDown)
        }
        if alreadyStopping { listener.close(promise: nil) }
        if let address {
            logger.info("listening", metadata: ["address": "\(address)"])
            onListening(address)
        }
        // The accept loop runs on the listener's event loop too (with `.eventLoop`): taking each
        // upgraded connection and starting its task then costs no wake-up of another thread.
        await withTaskExecutorPreference(executors?.executor(for: listener.eventLoop)) {
            await withGracefulShutdownHandler {
                await withTaskCancellationHandler {
                    await withDiscardingTaskGroup { group in
                        for await connection in upgrades {
                            group.addTask(executorPreference: connection.executor, operation: connection.serve)
                        }
                    }
                    // Connections whose handler runs on their event loop have no task to wait for.
                    await self.connectionsClosed()
                } onCancel: {
                    self.shutdown()
                }
            } onGracefulShutdown: {
                self.shutdown()
            }
        }
        logger.info("stopped")
    }

    /// Stops accepting, sends close 1001 to every peer, and drops those that
    /// have not answered within ``WebSocketServerConfiguration/shutdownTimeout``.
    public func shutdown() {
        let (listener, connections) = state.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.shuttingDown = true
            return (state.listener, Array(state.connections.values))
        }
        listener?.close(promise: nil)
        for channel in connections {
            channel.pipeline.fireUserInboundEventTriggered(GracefulShutdownEvent())
            channel.eventLoop.scheduleTask(in: configuration.shutdownTimeout) { channel.close(promise: nil) }
        }
    }

    /// Pauses accepting for a second when `accept` fails for want of resources.
    ///
    /// Out of file descriptors (EMFILE, ENFILE) or kernel memory, `accept` fails at once each time
    /// the listener wakes, and the listener, with connections still waiting, wakes at once again:
    /// the loop would spin at 100% CPU, starving the connections it already has, until descriptors
    /// are freed. With the ``DescriptorReserve`` freed, the next accept succeeds (that connection is
    /// closed at once) and the pause holds: the listener sleeps a second between attempts. Any
    /// other accept error (a client that reset while waiting) gets no pause. One warning per pause.
    static func acceptBackoff(reserve: DescriptorReserve, logger: Logger) -> AcceptBackoffHandler {
        AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
            switch error.errnoCode {
            case EMFILE, ENFILE:
                let released = reserve.release()
                logger.warning(
                    "out of file descriptors; accepting again in 1 s",
                    metadata: [
                        "error": "\(error)", "shedding": "\(released ? "the next connection" : "none (no reserve)")",
                    ])
                return .seconds(1)
            case ENOBUFS, ENOMEM:
                logger.warning("cannot accept connections; pausing for 1 s", metadata: ["error": "\(error)"])
                return .seconds(1)
            default:
                logger.debug("accept failed", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }

    /// Builds one accepted connection's pipeline; once upgraded, the connection goes to `upgraded`.
    private func configure(
        _ channel: any Channel, handshake: WebSocketServerHandshake, sslContext: NIOSSLContext?,
        executors: EventLoopTaskExecutors?, upgraded: AsyncStream<UpgradedConnection>.Continuation
    ) throws {
        if reserve.shedsNextConnection() {
            logger.warning(
                "out of file descriptors: closing a new connection at once",
                metadata: [
                    "peer": "\(channel.remoteAddress.map(ServerHandshakeHandler.describe) ?? "?")"
                ])
            // Its descriptor becomes the reserve again once it is closed.
            channel.close().whenComplete { [reserve] _ in reserve.refill() }
            return
        }
        let id = ObjectIdentifier(channel)
        let refused = state.withLockedValue { state in
            if !state.shuttingDown { state.connections[id] = channel }
            return state.shuttingDown
        }
        if refused {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            let drained = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.connections.removeValue(forKey: id)
                guard state.connections.isEmpty else { return [] }
                defer { state.drainWaiters = [] }
                return state.drainWaiters
            }
            for waiter in drained { waiter.resume() }
        }

        try channel.syncOptions?.setOption(.recvAllocator, value: readAllocator)
        let ops = channel.pipeline.syncOperations
        if let sslContext { try ops.addHandler(NIOSSLServerHandler(context: sslContext)) }
        try ops.addHandler(
            ServerHandshakeHandler(
                configuration: configuration, handshake: handshake, logger: logger,
                executor: executors?.executor(for: channel.eventLoop)
            ) { connection in
                // A loop handler's connection needs no task: its channel handler does all its work
                // (no task, no async frame and no hop through `upgrades` per connection).
                if connection.runsOnLoop {
                    if self.state.withLockedValue({ $0.listenerClosed }) { channel.close(promise: nil) }
                } else if case .terminated = upgraded.yield(connection) {
                    channel.close(promise: nil)
                }
            })
    }

    /// Returns once every accepted connection is closed.
    private func connectionsClosed() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let drained = state.withLockedValue { state in
                if !state.connections.isEmpty { state.drainWaiters.append(waiter) }
                return state.connections.isEmpty
            }
            if drained { waiter.resume() }
        }
    }
}
