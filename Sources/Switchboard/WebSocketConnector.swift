import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SwitchboardCore

/// Opens client connections to ws:// and wss:// URLs, directly or through an HTTP proxy.
///
/// ```swift
/// let close = try await WebSocketConnector.connect(to: "ws://127.0.0.1:8080/echo") { inbound, outbound, context in
///     try await outbound.send(text: "hello")
///     for try await message in inbound { print(message.text ?? "binary"); break }
/// }
/// ```
public enum WebSocketConnector {
    /// Connects, runs `handler` on the connection, closes it when the handler
    /// returns, and returns the peer's close frame (`nil` if the connection
    /// dropped without one).
    ///
    /// Throws `WebSocketError.handshakeFailed` when the server's answer
    /// fails any check of RFC 6455 §4.1, and connection errors as they come.
    @discardableResult
    public static func connect(
        to url: String,
        configuration: WebSocketClientConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.client"),
        handler: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        guard let parsed = WebSocketURL(url) else { throw WebSocketError.handshakeFailed("not a ws:// or wss:// URL: \(url)") }
        return try await connect(
            to: parsed, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger,
            handler: ClosureWebSocketHandler(handler))
    }

    /// Connects to a parsed URL and runs a `WebSocketHandler`.
    @discardableResult
    public static func connect(
        to url: WebSocketURL,
        configuration: WebSocketClientConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.client"),
        handler: any WebSocketHandler
    ) async throws -> WebSocketCloseFrame? {
        // Through a proxy the socket's peer is the proxy, against whose address SwiftNIO SSL would
        // check the certificate's IP entries: the name is checked here instead (ServerIdentityHandler).
        let proxy = try configuration.proxy ?? (configuration.proxyFromEnvironment ? HTTPProxy.fromEnvironment(for: url) : nil)
        var tls = configuration.tls
        let checksNameItself = proxy != nil && url.isSecure && tls.certificateVerification == .fullVerification
        if checksNameItself { tls.certificateVerification = .noHostnameVerification }
        let sslContext = try url.isSecure ? NIOSSLContext(configuration: tls) : nil
        let sni = url.host.isIPAddress ? nil : url.host
        let (host, port) = proxy.map { ($0.host, $0.port) } ?? (url.host, url.port)
        var headers = configuration.headers
        let span = HandshakeSpan.client(url, headers: &headers)
        let channel: any Channel
        do {
            // ClientBootstrap sets TCP_NODELAY itself (at the TCP level; see WebSocketServer for why
            // `.socketOption(.tcp_nodelay)` must not be used).
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(configuration.handshakeTimeout)
                .connect(host: host, port: port).get()
        } catch {
            Self.handshakeEnded(.failure(error), span: span)
            throw error
        }
        let deadline = channel.eventLoop.scheduleTask(in: configuration.handshakeTimeout) {
            channel.close(promise: nil)
        }
        do {
            if let proxy {
                try await awaitHandler(on: channel, of: Void.self) { tunnel in
                    try channel.pipeline.syncOperations.addHandler(
                        ProxyConnectHandler(
                            target: "\(url.hostHeaderForConnect)", authorization: proxy.authorization,
                            maxHeadSize: configuration.maxHandshakeSize, done: tunnel))
                }
                if let sslContext, checksNameItself {
                    // TLS first, and the name checked, before the request (and its credentials) goes out.
                    try await awaitHandler(on: channel, of: Void.self) { verified in
                        let ops = channel.pipeline.syncOperations
                        try ops.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                        try ops.addHandler(ServerIdentityHandler(host: url.host, done: verified))
                    }
                }
            }
            let handshake = WebSocketClientHandshake(
                host: url.hostHeader, target: url.target, subprotocols: configuration.subprotocols,
                extensions: configuration.extensions, headers: headers)
            let connection = try await awaitHandler(on: channel, of: UpgradedConnection.self) { upgraded in
                let ops = channel.pipeline.syncOperations
                if let sslContext, !checksNameItself {
                    try ops.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                }
                try ops.addHandler(
                    ClientHandshakeHandler(
                        request: handshake.request, maxHeadSize: configuration.maxHandshakeSize,
                        upgrade: { status, headers, context in
                            let accepted = try handshake.validate(status: status, headers: headers)
                            let traceContext = span.upgraded(
                                route: nil, subprotocol: accepted.subprotocol, extensions: accepted.extensions.map(\.name))
                            var logger = logger
                            logger[metadataKey: "url"] = "\(url)"
                            let wsContext = WebSocketContext(
                                request: handshake.request, subprotocol: accepted.subprotocol,
                                extensions: accepted.extensions.map(\.name), role: .client, logger: logger)
                            let engine = WebSocketEngine(
                                role: .client, limits: configuration.connection.limits,
                                extensions: accepted.extensions, allocator: context.channel.allocator)
                            let plan = SessionPlan.make(
                                extensions: accepted.extensions, handshakeTimeout: configuration.handshakeTimeout,
                                evaluate: nil)
                            return try UpgradedConnection.install(
                                on: context.channel, engine: engine, configuration: configuration.connection,
                                context: wsContext, handler: handler, position: .after(context.handler),
                                sessions: plan,
                                executor: configuration.connection.handlerExecution.preference(for: context.eventLoop),
                                traceContext: traceContext)
                        },
                        result: upgraded))
            }
            deadline.cancel()
            ConnectionMetrics.clientHandshake(.success(()))
            return await withTaskExecutorPreference(connection.executor) { await connection.run() }
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            Self.handshakeEnded(.failure(error), span: span)
            throw error
        }
    }

    /// Counts a handshake that did not upgrade, and ends its span.
    private static func handshakeEnded(_ outcome: Result<Void, any Error>, span: HandshakeSpan) {
        ConnectionMetrics.clientHandshake(outcome)
        if case .failure(let error) = outcome { span.failed(error) }
    }
}

extension WebSocketConnector {
    /// Runs `install` on the channel's event loop, handing it a promise for the handler it adds
    /// to complete, and waits for that promise.
    ///
    /// The channel may close while this task hops to its loop (a proxy or a server that answers
    /// and hangs up at once): adding a handler then throws, and that fails the promise instead
    /// of leaving it behind. A handler that does go in on a closed channel fails it itself.
    static func awaitHandler<Value: Sendable>(
        on channel: any Channel, of: Value.Type,
        _ install: @escaping @Sendable (EventLoopPromise<Value>) throws -> Void
    ) async throws -> Value {
        try await channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Value.self)
            do {
                try install(promise)
            } catch {
                promise.fail(WebSocketError.handshakeFailed("the connection closed during the handshake (\(error))"))
            }
            return promise.futureResult
        }.get()
    }
}

extension WebSocketURL {
    /// The authority for `CONNECT`: always with a port (RFC 9110 §9.3.6).
    var hostHeaderForConnect: String {
        "\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

extension String {
    /// Whether this is a literal IPv4 or IPv6 address (SNI must not carry one, RFC 6066 §3).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}

extension WebSocketConnector {
    /// An error from the TLS layer during the handshake as ``WebSocketError/tlsFailed(_:)``
    /// (a peer that hung up mid-handshake is not one), anything else as a failed handshake.
    static func describeTLSFailure(_ error: any Error) -> WebSocketError {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { return .handshakeFailed("\(error)") }
        if error is NIOSSLError || error is NIOSSLExtraError { return .tlsFailed("\(error)") }
        return .handshakeFailed("\(error)")
    }
}
