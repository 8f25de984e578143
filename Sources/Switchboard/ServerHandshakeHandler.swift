import Logging
import NIOCore
import NIOSSL
import SwitchboardCore
import Tracing

/// Reads one HTTP request head and either upgrades the connection to
/// WebSocket (RFC 6455 §4.2) or answers it as plain HTTP and closes.
final class ServerHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: WebSocketServerConfiguration
    private let handshake: WebSocketServerHandshake
    private let logger: Logger
    /// Takes the connection once it is upgraded: runs its handler.
    private let upgraded: (UpgradedConnection) -> Void
    /// The executor of this connection's loop, when handlers run on it (`nil`: the global executor).
    private let executor: EventLoopTaskExecutor?
    private var reader: HTTPHeadReader
    private var done = false
    private var timeout: Scheduled<Void>?
    /// While a route's accept hook runs: bytes the client sent behind its request, which go to
    /// the WebSocket handler if the upgrade is accepted.
    private var waitingForHook: ByteBuffer?
    /// The handshake's span, from the request's head to the answer (ended on close if none went out).
    private var span: HandshakeSpan?

    init(
        configuration: WebSocketServerConfiguration, handshake: WebSocketServerHandshake, logger: Logger,
        executor: EventLoopTaskExecutor?, upgraded: @escaping (UpgradedConnection) -> Void
    ) {
        self.configuration = configuration
        self.handshake = handshake
        self.logger = logger
        self.upgraded = upgraded
        self.executor = executor
        self.reader = HTTPHeadReader(limit: configuration.maxHandshakeSize)
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
        takeSpan()?.failed(WebSocketError.timeout("the connection closed before the handshake was answered"))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if var waiting = waitingForHook {
            var more = unwrapInboundIn(data)
            waiting.writeBuffer(&more)
            // A client may not send frames before the 101 (RFC 6455 §4.1); a few are kept, not a flood.
            guard waiting.readableBytes <= configuration.maxHandshakeSize else {
                logger.info("data flood while the accept hook ran", metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
                context.close(promise: nil)
                return
            }
            waitingForHook = waiting
            return
        }
        guard !done else { return }
        do {
            guard let (head, rest) = try reader.read(unwrapInboundIn(data)) else { return }
            done = true
            process(head, rest: rest, context: context)
        } catch {
            done = true
            let status = error == .tooLarge ? 431 : 400
            logger.info("bad HTTP request", metadata: ["status": "\(status)", "error": "\(error)"])
            respond(context: context, PlainHTTPResponse(status: status, body: status == 431 ? "request head too large\n" : "bad request\n"))
        }
    }

    private func process(_ head: HTTPHeadReader.Head, rest: ByteBuffer, context: ChannelHandlerContext) {
        guard var request = HandshakeRequest(head: head, remoteAddress: context.channel.remoteAddress.map(Self.describe)) else {
            respond(context: context, PlainHTTPResponse(status: 400, body: "bad request line\n"))
            return
        }
        request.isSecure = configuration.tls != nil
        let isUpgrade = WebSocketServerHandshake.isWebSocketUpgrade(request)
        // Plain HTTP goes to the HTTP handler first, on a WebSocket route too (a SOAP route's `?wsdl`).
        if !isUpgrade, let response = configuration.httpHandler?(request) {
            respond(context: context, response)
            return
        }
        guard isUpgrade || configuration.routes.registry(for: request.path) != nil else {
            respond(context: context, PlainHTTPResponse(status: 404, body: "not found\n"))
            return
        }
        span = HandshakeSpan.server(request)
        switch handshake.evaluate(request) {
        case .reject(let rejection):
            refuse(rejection, request, byHook: false, context: context)
        case .accept(let accepted):
            var values = WebSocketContextValues()
            if configuration.tls != nil { values[TLSPeerCertificate.self] = try? context.pipeline.syncOperations.nioSSL_peerCertificate() }
            guard let hook = accepted.accept else {
                upgrade(request, accepted, values: values, rest: rest, context: context)
                return
            }
            runAcceptHook(hook, request, accepted, values: values, rest: rest, context: context)
        }
    }

    /// Runs the route's accept hook in a task, reads on meanwhile (keeping what arrives), then
    /// upgrades or answers on the loop. The handshake timeout bounds the hook.
    private func runAcceptHook(
        _ hook: @escaping WebSocketAcceptHook, _ request: HandshakeRequest, _ accepted: WebSocketServerHandshake.Accepted,
        values: WebSocketContextValues, rest: ByteBuffer, context: ChannelHandlerContext
    ) {
        waitingForHook = rest
        let decision = context.eventLoop.makePromise(of: Result<WebSocketContextValues, HandshakeRejection>.self)
        let (pathParameters, subprotocol) = (accepted.pathParameters, accepted.subprotocol)
        let traceContext = span?.context
        let task = decision.completeWithTask {
            await ServiceContext.withValue(traceContext) {
                await ServerUpgrade.runAcceptHook(hook, request, pathParameters: pathParameters, subprotocol: subprotocol, values: values)
            }
        }
        // A connection gone (the handshake timeout, the peer) cancels its hook: hooks stuck on a
        // slow store would otherwise pile up, one per connection a peer opens.
        context.channel.closeFuture.whenComplete { _ in task.cancel() }
        let loopBound = NIOLoopBound((self, context, accepted), eventLoop: context.eventLoop)
        decision.futureResult.whenSuccess { decision in
            let (handler, context, accepted) = loopBound.value
            guard context.channel.isActive, let rest = handler.waitingForHook else { return }  // timed out meanwhile
            handler.waitingForHook = nil
            switch decision {
            case .success(let values):
                handler.upgrade(request, accepted, values: values, rest: rest, context: context)
            case .failure(let rejection):
                handler.refuse(rejection, request, byHook: true, context: context)
            }
        }
    }

    private func upgrade(
        _ request: HandshakeRequest, _ accepted: WebSocketServerHandshake.Accepted, values: WebSocketContextValues, rest: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        timeout?.cancel()
        context.writeAndFlush(wrapOutboundOut(HTTPHeadWriter.response(status: 101, headers: accepted.responseHeaders)), promise: nil)
        // A client that reset the connection right behind its request makes that write fail, and NIO
        // closes the channel inside it. Installed now, the WebSocket handler would never see the
        // channel go inactive, and the connection's task would wait for it forever.
        guard context.channel.isActive else {
            logger.debug("peer gone before the upgrade was answered", metadata: ["peer": "\(request.remoteAddress ?? "?")"])
            return
        }

        do {
            let connection = try ServerUpgrade.install(
                request, accepted, values: values, span: takeSpan(), on: context.channel, position: .after(self), handshake: handshake,
                configuration: configuration.connection, handshakeTimeout: configuration.handshakeTimeout, logger: logger, executor: executor)
            upgraded(connection)
            // Frames the client sent right behind its request go to the WebSocket handler.
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            logger.error("could not install the WebSocket handler", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// The handshake's span, for the one answer that ends it.
    private func takeSpan() -> HandshakeSpan? {
        defer { span = nil }
        return span
    }

    /// Logs the refusal, answers with its status, headers and reason, and closes.
    private func refuse(_ rejection: HandshakeRejection, _ request: HandshakeRequest, byHook: Bool, context: ChannelHandlerContext) {
        ServerUpgrade.recordRefusal(rejection, request, byHook: byHook, span: takeSpan(), logger: logger)
        respond(context: context, PlainHTTPResponse(status: rejection.status, headers: rejection.headers, body: rejection.reason + "\n"))
    }

    /// Answers and closes once the answer is written. The handshake timeout stays armed: a
    /// client that never reads a body larger than the socket buffers would otherwise hold the
    /// connection (and its file descriptor) for good.
    private func respond(context: ChannelHandlerContext, _ response: PlainHTTPResponse) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        headers.replaceOrAdd(name: "Connection", value: "close")
        var bytes = HTTPHeadWriter.response(status: response.status, headers: headers)
        var body = response.body
        bytes.writeBuffer(&body)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v6: return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}
