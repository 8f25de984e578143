import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Switchboard

extension HTTPServerBuilder {
    /// HTTP/1.1 for the app's router, and WebSocket upgrades on the routes of `server`, on one port.
    ///
    /// ```swift
    /// var routes = WebSocketRoutes()
    /// routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods)))
    /// let app = Application(router: router, server: .http1(switchboard: HostedWebSocketServer(routes: routes)))
    /// ```
    ///
    /// A request that asks for a WebSocket on one of `server`'s routes is judged by Switchboard
    /// (its checks, registries, extensions, origin policy and accept hooks) and, once upgraded,
    /// runs the route's handler on the connection; every other request goes to the app's router.
    ///
    /// `maxPendingUpgradeBytes` bounds what a connection may send before its first request is
    /// settled (see ``HTTP1SwitchboardChannel/init(responder:server:configuration:maxPendingUpgradeBytes:)``).
    public static func http1(
        switchboard server: HostedWebSocketServer, configuration: HTTP1Channel.Configuration = .init(),
        maxPendingUpgradeBytes: Int = HTTP1SwitchboardChannel.defaultMaxPendingUpgradeBytes
    ) -> HTTPServerBuilder {
        .init { responder in
            HTTP1SwitchboardChannel(
                responder: responder, server: server, configuration: configuration, maxPendingUpgradeBytes: maxPendingUpgradeBytes)
        }
    }
}

/// Hummingbird's child channel for HTTP/1.1 with Switchboard's WebSocket upgrades.
public struct HTTP1SwitchboardChannel: ServerChildChannel, HTTPChannelHandler {
    /// What a connection became once its first request was read.
    public enum Outcome: Sendable {
        /// A WebSocket connection, installed: run it.
        case webSocket(WebSocketServerConnection)
        /// Plain HTTP: the app's router answers.
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// A WebSocket upgrade Switchboard refused: answer this and close.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse, body: String)
    }

    public struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        public let channel: any Channel
    }

    public let responder: HTTPChannelHandler.Responder
    let server: HostedWebSocketServer
    let configuration: HTTP1Channel.Configuration
    let maxPendingUpgradeBytes: Int

    /// 1 MiB: NIO reads at most 64 KiB at a time, so the first read of a plain request (whose
    /// body then goes to the app unbounded by this) never trips it, while a peer flooding
    /// behind an upgrade request whose accept hook is slow pins at most this much.
    public static let defaultMaxPendingUpgradeBytes = 1 << 20

    /// A connection that sends more than `maxPendingUpgradeBytes` before its first request is
    /// settled (upgraded, refused, or handed to the app's router) is closed.
    public init(
        responder: @escaping HTTPChannelHandler.Responder, server: HostedWebSocketServer, configuration: HTTP1Channel.Configuration = .init(),
        maxPendingUpgradeBytes: Int = Self.defaultMaxPendingUpgradeBytes
    ) {
        self.responder = responder
        self.server = server
        self.configuration = configuration
        self.maxPendingUpgradeBytes = maxPendingUpgradeBytes
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Set while Switchboard refuses an upgrade: the answer the not-upgrading path writes.
            let refusal = NIOLoopBoundBox<(HTTPResponse, String)?>(nil, eventLoop: channel.eventLoop)
            let limit = NIOLoopBound(PendingUpgradeLimit(limit: maxPendingUpgradeBytes, logger: logger), eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(limit.value)  // first: it sees the bytes NIO's upgrade handler would keep
            let webSocket = SwitchboardProtocolUpgrader(server: server, refusal: refusal, limit: limit, eventLoop: channel.eventLoop)
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration<Outcome>(
                upgraders: [webSocket],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        channel.pipeline.syncOperations.removeHandler(limit.value, promise: nil)
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(configuration.additionalChannelHandlers())
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let (response, body) = refusal.value { return .refused(http, response, body: body) }
                        return .http(http)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Outcome>(upgradeConfiguration: upgradeConfiguration)
            pipeline.enablePipelining = false  // the HTTP side is pipelined by NIOAsyncChannel, as in Hummingbird's HTTP1Channel
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            pipeline.decoderConfiguration.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(outcome: outcome, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .webSocket(let connection):
                await connection.run()
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let response, let body):
                try await http.executeThenClose { _, outbound in
                    var head = response
                    head.headerFields[.contentLength] = String(body.utf8.count)
                    head.headerFields[.connection] = "close"
                    try await outbound.write(.head(head))
                    try await outbound.write(.body(ByteBuffer(string: body)))
                    try await outbound.write(.end(nil))
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// NIO's upgrade step for Switchboard: the 101's headers (or a refusal), then the installed connection.
struct SwitchboardProtocolUpgrader: NIOTypedHTTPServerProtocolUpgrader {
    typealias UpgradeResult = HTTP1SwitchboardChannel.Outcome
    /// Why the upgrade did not happen; NIO then takes the request to the not-upgrading path.
    struct Refused: Error {}

    let server: HostedWebSocketServer
    let refusal: NIOLoopBoundBox<(HTTPResponse, String)?>
    /// Removed once the connection is upgraded: from then on Switchboard's own limits apply.
    let limit: NIOLoopBound<PendingUpgradeLimit>
    /// The accepted upgrade between NIO's two steps, on the channel's loop (one server per channel).
    private let accepted: NIOLoopBoundBox<AcceptedUpgrade?>

    var supportedProtocol: String { "websocket" }
    var requiredUpgradeHeaders: [String] { [] }

    init(
        server: HostedWebSocketServer, refusal: NIOLoopBoundBox<(HTTPResponse, String)?>, limit: NIOLoopBound<PendingUpgradeLimit>,
        eventLoop: any EventLoop
    ) {
        self.server = server
        self.refusal = refusal
        self.limit = limit
        self.accepted = NIOLoopBoundBox(nil, eventLoop: eventLoop)
    }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        let request = Self.request(upgradeRequest)
        let promise = channel.eventLoop.makePromise(of: HostedWebSocketServer.Decision.self)
        let (server, remote) = (self.server, channel.remoteAddress)
        let (isSecure, values) = HostedWebSocketServer.transportSecurity(of: channel)  // an app behind HummingbirdTLS
        let task = promise.completeWithTask { await server.evaluate(request, remoteAddress: remote, isSecure: isSecure, values: values) }
        channel.closeFuture.whenComplete { _ in task.cancel() }  // a peer gone: its accept hook is cancelled
        let (refusal, accepted) = (self.refusal, self.accepted)
        return promise.futureResult.flatMapThrowing { decision in
            switch decision {
            case .upgrade(let upgrade):
                accepted.value = upgrade
                var headers = HTTPHeaders()
                for field in upgrade.responseHeaders { headers.add(name: field.name.rawName, value: field.value) }
                return headers
            case .reject(let response, let body):
                refusal.value = (response, body)
                throw Refused()
            case .notWebSocket:
                refusal.value = (HTTPResponse(status: .notFound), "not found\n")
                throw Refused()
            }
        }
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            guard let upgrade = accepted.value else { throw Refused() }
            channel.pipeline.syncOperations.removeHandler(limit.value, promise: nil)
            return .webSocket(try server.makeConnection(upgrade, on: channel))
        }
    }

    /// The request head as swift-http-types has it (the `Host` header as the authority).
    static func request(_ head: HTTPRequestHead) -> HTTPRequest {
        var fields = HTTPFields()
        for (name, value) in head.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return HTTPRequest(
            method: HTTPRequest.Method(head.method.rawValue) ?? .get, scheme: nil, authority: nil, path: head.uri, headerFields: fields)
    }
}
