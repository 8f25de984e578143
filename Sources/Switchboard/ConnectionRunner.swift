import Logging
import NIOCore
import SwitchboardCore

/// The async side of one upgraded connection: runs the handler, then closes.
struct UpgradedConnection: Sendable {
    let channel: NIOAsyncChannel<WebSocketMessage, WebSocketOutboundCommand>
    let context: WebSocketContext
    let handler: any WebSocketHandler
    /// The peer's close frame, once the channel is closed.
    let peerClose: EventLoopFuture<WebSocketCloseFrame?>

    /// Installs the WebSocket handler on a channel whose HTTP handshake is done
    /// and wraps it for async use. Call on the channel's event loop.
    static func install(on channel: any Channel, engine: WebSocketEngine, configuration: WebSocketConnectionConfiguration,
                        context: WebSocketContext, handler: any WebSocketHandler,
                        position: ChannelPipeline.SynchronousOperations.Position) throws -> UpgradedConnection {
        let peerClose = channel.eventLoop.makePromise(of: WebSocketCloseFrame?.self)
        let wsHandler = WebSocketChannelHandler(engine: engine, configuration: configuration, logger: context.logger, peerClose: peerClose)
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
        return UpgradedConnection(channel: asyncChannel, context: context, handler: handler, peerClose: peerClose.futureResult)
    }

    /// Runs the handler; when it returns, closes with 1000 (1011 if it threw) and
    /// waits for the close handshake to end. Returns the peer's close frame.
    @discardableResult
    func run() async -> WebSocketCloseFrame? {
        let logger = context.logger
        do {
            try await channel.executeThenClose { inbound, _ in
                let writer = AsyncChannelWriter(channel: channel.channel)
                do {
                    try await handler.handle(WebSocketInbound(inbound), WebSocketOutbound(writer), context: context)
                    try? await channel.channel.writeAndFlush(WebSocketOutboundCommand.finish(.normalClosure, "")).get()
                } catch where !channel.channel.isActive || error is WebSocketError {
                    logger.debug("handler ended as the connection closed", metadata: ["error": "\(error)"])
                } catch {
                    logger.error("handler failed", metadata: ["error": "\(error)"])
                    try? await channel.channel.writeAndFlush(WebSocketOutboundCommand.finish(.internalServerError, "handler failed")).get()
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

/// Sends the handler's messages to the channel handler and waits until each
/// is written to the socket.
///
/// Waiting per message is the backpressure: NIOAsyncChannel's writer returns
/// as soon as a message is queued for the event loop, so a sender that never
/// waits could queue without bound before the socket ever reports it is full.
/// Here a sender whose peer does not read stops at the first write the kernel
/// cannot take.
struct AsyncChannelWriter: WebSocketOutboundWriter {
    let channel: any Channel

    func write(_ message: WebSocketMessage) async throws { try await send(.message(message)) }
    func ping(_ payload: ByteBuffer) async throws { try await send(.ping(payload)) }
    func close(code: WebSocketCloseCode, reason: String) async throws { try await send(.close(code, reason)) }

    private func send(_ command: WebSocketOutboundCommand) async throws {
        do {
            try await channel.writeAndFlush(command).get()
        } catch is ChannelError {
            throw WebSocketError.connectionClosed  // the socket is gone: say so in the library's terms
        }
    }
}
