import Logging
import NIOCore
import SwitchboardCore

/// The async side of one upgraded connection: runs the handler, then closes.
struct UpgradedConnection: Sendable {
    let channel: NIOAsyncChannel<WebSocketMessage, WebSocketOutboundCommand>
    let context: WebSocketContext
    let handler: any WebSocketHandler
    /// What the handler sends, on its way to the channel handler.
    let outbound: OutboundQueue
    /// The peer's close frame, once the channel is closed.
    let peerClose: EventLoopFuture<WebSocketCloseFrame?>

    /// Installs the WebSocket handler on a channel whose HTTP handshake is done
    /// and wraps it for async use. Call on the channel's event loop.
    static func install(on channel: any Channel, engine: WebSocketEngine, configuration: WebSocketConnectionConfiguration,
                        context: WebSocketContext, handler: any WebSocketHandler,
                        position: ChannelPipeline.SynchronousOperations.Position) throws -> UpgradedConnection {
        let peerClose = channel.eventLoop.makePromise(of: WebSocketCloseFrame?.self)
        let outbound = OutboundQueue(eventLoop: channel.eventLoop)
        let wsHandler = WebSocketChannelHandler(engine: engine, configuration: configuration, outbound: outbound, logger: context.logger,
                                                peerClose: peerClose)
        try channel.pipeline.syncOperations.addHandler(wsHandler, position: position)
        let asyncChannel = try NIOAsyncChannel<WebSocketMessage, WebSocketOutboundCommand>(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                backPressureStrategy: .init(lowWatermark: max(1, configuration.inboundBufferedMessages / 4),
                                            highWatermark: max(1, configuration.inboundBufferedMessages)),
                inboundType: WebSocketMessage.self,
                outboundType: WebSocketOutboundCommand.self
            )
        )
        return UpgradedConnection(channel: asyncChannel, context: context, handler: handler, outbound: outbound, peerClose: peerClose.futureResult)
    }

    /// Runs the handler; when it returns, closes with 1000 (1011 if it threw) and
    /// waits for the close handshake to end. Returns the peer's close frame.
    @discardableResult
    func run() async -> WebSocketCloseFrame? {
        let logger = context.logger
        do {
            try await channel.executeThenClose { inbound, _ in
                do {
                    try await handler.handle(WebSocketInbound(InboundMessages(stream: inbound)), WebSocketOutbound(AsyncChannelWriter(queue: outbound)), context: context)
                    try? outbound.enqueue(.finish(.normalClosure, ""))
                } catch where !channel.channel.isActive || error is WebSocketError {
                    logger.debug("handler ended as the connection closed", metadata: ["error": "\(error)"])
                } catch {
                    logger.error("handler failed", metadata: ["error": "\(error)"])
                    try? outbound.enqueue(.finish(.internalServerError, "handler failed"))
                }
                // The channel handler keeps reading until the close handshake ends or times out.
                try? await channel.channel.closeFuture.get()
            }
        } catch {
            logger.debug("connection ended with error", metadata: ["error": "\(error)"])
        }
        return try? await peerClose.get()
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
