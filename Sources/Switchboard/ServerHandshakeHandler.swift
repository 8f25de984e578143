import Logging
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// Reads one HTTP request and either upgrades the connection to WebSocket
/// (RFC 6455 §4.2) or answers it as plain HTTP and closes.
final class ServerHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let configuration: WebSocketServerConfiguration
    private let handshake: WebSocketServerHandshake
    private let logger: Logger
    private let result: EventLoopPromise<UpgradedConnection?>
    private let encoder: HTTPResponseEncoder
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let limiter: HandshakeSizeLimiter
    private var head: HTTPRequestHead?
    private var done = false
    private var timeout: Scheduled<Void>?

    init(configuration: WebSocketServerConfiguration, handshake: WebSocketServerHandshake, logger: Logger,
         result: EventLoopPromise<UpgradedConnection?>, encoder: HTTPResponseEncoder,
         decoder: ByteToMessageHandler<HTTPRequestDecoder>, limiter: HandshakeSizeLimiter) {
        self.configuration = configuration
        self.handshake = handshake
        self.logger = logger
        self.result = result
        self.encoder = encoder
        self.decoder = decoder
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let logger = self.logger
        timeout = context.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
            logger.info("opening handshake timed out")
            channel.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        result.succeed(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !done else { return }
        done = true
        logger.info("bad HTTP request", metadata: ["error": "\(error)"])
        respond(context: context, HTTPResponse(status: 400, body: "bad request\n"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            context.pipeline.syncOperations.removeHandler(limiter, promise: nil)
        case .body:
            break  // a handshake has no body; a plain request's body is not used
        case .end:
            guard let head else { return }
            done = true
            process(head, context: context)
        }
    }

    private func process(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HandshakeHeaders()
        for (name, value) in head.headers { headers.add(name: name, value: value) }
        let request = HandshakeRequest(method: head.method.rawValue, target: head.uri, headers: headers,
                                       remoteAddress: context.channel.remoteAddress.map(Self.describe),
                                       majorVersion: head.version.major, minorVersion: head.version.minor)
        let isRoute = configuration.routes.registry(for: request.path) != nil
        guard isRoute || WebSocketServerHandshake.isWebSocketUpgrade(request) else {
            let response = configuration.httpHandler?(request) ?? HTTPResponse(status: 404, body: "not found\n")
            respond(context: context, response)
            return
        }
        switch handshake.evaluate(request) {
        case .reject(let rejection):
            logger.info("handshake refused", metadata: ["status": "\(rejection.status)", "reason": "\(rejection.reason)",
                                                        "path": "\(request.path)", "peer": "\(request.remoteAddress ?? "?")"])
            respond(context: context, HTTPResponse(status: rejection.status, headers: rejection.headers, body: rejection.reason + "\n"))
        case .accept(let accepted):
            upgrade(request, accepted, context: context)
        }
    }

    private func upgrade(_ request: HandshakeRequest, _ accepted: WebSocketServerHandshake.Accepted, context: ChannelHandlerContext) {
        timeout?.cancel()
        var headers = HTTPHeaders()
        for field in accepted.responseHeaders { headers.add(name: field.name, value: field.value) }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))), promise: nil)

        var logger = self.logger
        logger[metadataKey: "peer"] = "\(request.remoteAddress ?? "?")"
        logger[metadataKey: "path"] = "\(request.path)"
        let wsContext = WebSocketContext(request: request, subprotocol: accepted.subprotocol,
                                         extensions: accepted.extensions.map(\.name), role: .server, logger: logger)
        let engine = WebSocketEngine(role: .server, limits: configuration.connection.limits, extensions: accepted.extensions,
                                     allocator: context.channel.allocator)
        do {
            let connection = try UpgradedConnection.install(on: context.channel, engine: engine, configuration: configuration.connection,
                                                            context: wsContext, handler: accepted.handler, position: .after(self))
            // The encoder goes first, then this handler, and the decoder last: it forwards the bytes
            // that followed the request (frames sent right after the handshake) to the WebSocket handler.
            let ops = context.pipeline.syncOperations
            ops.removeHandler(encoder, promise: nil)
            ops.removeHandler(context: context, promise: nil)
            ops.removeHandler(decoder, promise: nil)
            result.succeed(connection)
            logger.debug("upgraded", metadata: ["subprotocol": "\(accepted.subprotocol ?? "none")"])
        } catch {
            logger.error("could not install the WebSocket handler", metadata: ["error": "\(error)"])
            result.succeed(nil)
            context.close(promise: nil)
        }
    }

    private func respond(context: ChannelHandlerContext, _ response: HTTPResponse) {
        timeout?.cancel()
        var headers = HTTPHeaders()
        for field in response.headers { headers.add(name: field.name, value: field.value) }
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        headers.replaceOrAdd(name: "Connection", value: "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}
