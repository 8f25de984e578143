import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import SwitchboardCore
import Tracing

/// A ``WebSocketServer`` without a listener of its own: it serves Switchboard routes on
/// connections another HTTP server accepted. The way to mount them in a Hummingbird or Vapor
/// app (the adapters in `Adapters/` use it), or in any NIO HTTP/1.1 server that can hand over
/// its channel after an upgrade.
///
/// The request is judged as ``WebSocketServer`` judges it: the same routes and registries,
/// extension negotiation, origin policy, limits and accept hooks. The host server writes the
/// answer (the 101 and its headers, or the rejection), removes its HTTP handlers, and then
/// hands the channel over:
///
/// ```swift
/// let hosted = HostedWebSocketServer(routes: routes)
/// switch await hosted.evaluate(request, remoteAddress: channel.remoteAddress, isSecure: false) {
/// case .upgrade(let upgrade):   // write 101 with upgrade.responseHeaders, remove the HTTP handlers, then:
///     let connection = try hosted.makeConnection(upgrade, on: channel)   // on the channel's event loop
///     await connection.run()
/// case .reject(let response, let body): ...   // write it and close
/// case .notWebSocket: ...                      // the app's own route
/// }
/// ```
public struct HostedWebSocketServer: Sendable {
    public let routes: WebSocketRoutes
    public let connection: WebSocketConnectionConfiguration
    /// Bounds the accept hook (past it the upgrade is refused with 503) and, for a multiplexing
    /// extension, each channel's handshake.
    public let handshakeTimeout: TimeAmount
    private let handshake: WebSocketServerHandshake
    private let logger: Logger

    public init(
        routes: WebSocketRoutes, extensions: [any WebSocketExtensionFactory] = [], originPolicy: OriginPolicy = .any,
        connection: WebSocketConnectionConfiguration = WebSocketConnectionConfiguration(), handshakeTimeout: TimeAmount = .seconds(10),
        logger: Logger = Logger(label: "switchboard.server")
    ) {
        self.routes = routes
        self.connection = connection
        self.handshakeTimeout = handshakeTimeout
        self.handshake = WebSocketServerHandshake(routes: routes, extensions: extensions, originPolicy: originPolicy)
        self.logger = logger
    }

    /// What to answer a request.
    public enum Decision: Sendable {
        /// Answer 101 with ``AcceptedUpgrade/responseHeaders``, then ``makeConnection(_:on:)``.
        case upgrade(AcceptedUpgrade)
        /// Answer with this response and body, then close.
        case reject(HTTPResponse, body: String)
        /// Not a WebSocket upgrade to one of these routes: the host server's own business.
        case notWebSocket
    }

    /// Judges `request`. `remoteAddress` and `isSecure` reach handlers and accept hooks through
    /// `WebSocketContext.request`; `values` is what the host server knows of the request (its
    /// request context, an authenticated user), for the accept hook and then the handler, beside
    /// whatever the hook adds.
    public func evaluate(
        _ request: HTTPRequest, remoteAddress: SocketAddress?, isSecure: Bool, values: WebSocketContextValues = WebSocketContextValues()
    ) async -> Decision {
        let handshakeRequest = Self.handshakeRequest(request, remoteAddress: remoteAddress, isSecure: isSecure)
        guard WebSocketServerHandshake.isWebSocketUpgrade(handshakeRequest), routes.match(handshakeRequest.path) != nil else {
            return .notWebSocket
        }
        let span = HandshakeSpan.server(handshakeRequest)
        switch handshake.evaluate(handshakeRequest) {
        case .reject(let rejection):
            return reject(rejection, handshakeRequest, byHook: false, span: span)
        case .accept(let accepted):
            guard let hook = accepted.accept else {
                return .upgrade(AcceptedUpgrade(request: handshakeRequest, accepted: accepted, values: values, span: AcceptedUpgradeSpan(span)))
            }
            let (pathParameters, subprotocol, timeout) = (accepted.pathParameters, accepted.subprotocol, handshakeTimeout)
            // The host server has no handshake timeout of ours: the hook is raced against it here.
            let outcome = await withTaskGroup(of: Result<WebSocketContextValues, HandshakeRejection>?.self) { group in
                group.addTask { [traceContext = span.context] in
                    await ServiceContext.withValue(traceContext) {
                        await ServerUpgrade.runAcceptHook(
                            hook, handshakeRequest, pathParameters: pathParameters, subprotocol: subprotocol, values: values)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                    return nil
                }
                defer { group.cancelAll() }
                return await group.next() ?? nil
            }
            switch outcome {
            case nil:
                return reject(
                    HandshakeRejection(status: 503, reason: "the route's check did not answer in time"), handshakeRequest, byHook: true, span: span)
            case .failure(let rejection)?: return reject(rejection, handshakeRequest, byHook: true, span: span)
            case .success(let values)?:
                return .upgrade(AcceptedUpgrade(request: handshakeRequest, accepted: accepted, values: values, span: AcceptedUpgradeSpan(span)))
            }
        }
    }

    /// Installs the accepted connection on `channel`, whose HTTP handlers are gone and whose
    /// 101 is written; returns it to ``WebSocketServerConnection/run()``. Call on the channel's
    /// event loop, once per ``AcceptedUpgrade``.
    public func makeConnection(_ upgrade: AcceptedUpgrade, on channel: any Channel) throws -> WebSocketServerConnection {
        let executor = connection.handlerExecution.preference(for: channel.eventLoop)
        let upgraded = try ServerUpgrade.install(
            upgrade.request, upgrade.accepted, values: upgrade.values, span: upgrade.span.take(), on: channel, position: .last, handshake: handshake,
            configuration: connection, handshakeTimeout: handshakeTimeout, logger: logger, executor: executor)
        return WebSocketServerConnection(upgraded)
    }

    private func reject(_ rejection: HandshakeRejection, _ request: HandshakeRequest, byHook: Bool, span: HandshakeSpan) -> Decision {
        ServerUpgrade.recordRefusal(rejection, request, byHook: byHook, span: span, logger: logger)
        return .reject(HTTPResponse(status: .init(code: rejection.status), headerFields: rejection.headers.httpFields), body: rejection.reason + "\n")
    }

    /// The request as the core reads it: HTTP/1.1, the `Host` header from the authority
    /// (swift-http-types moves it there).
    static func handshakeRequest(_ request: HTTPRequest, remoteAddress: SocketAddress?, isSecure: Bool) -> HandshakeRequest {
        var headers = HandshakeHeaders()
        if let authority = request.authority { headers.add(name: "Host", value: authority) }
        for field in request.headerFields where !(request.authority != nil && field.name.canonicalName == "host") {
            headers.add(name: field.name.rawName, value: field.value)
        }
        return HandshakeRequest(
            method: request.method.rawValue, target: request.path ?? "/", headers: headers,
            remoteAddress: remoteAddress.map(ServerHandshakeHandler.describe), isSecure: isSecure)
    }
}

/// An upgrade ``HostedWebSocketServer`` accepted: the 101's headers, and what the connection will be.
///
/// `@unchecked Sendable`: it carries the connection's extension instances, made for it alone;
/// it crosses to the channel's event loop once and is installed there.
public struct AcceptedUpgrade: @unchecked Sendable {
    let request: HandshakeRequest
    let accepted: WebSocketServerHandshake.Accepted
    let values: WebSocketContextValues
    /// Ended by ``HostedWebSocketServer/makeConnection(_:on:)``, or as abandoned when the host drops the upgrade.
    let span: AcceptedUpgradeSpan

    /// The headers of the 101 response (`Upgrade`, `Connection`, `Sec-WebSocket-Accept`, the
    /// chosen subprotocol and extensions).
    public var responseHeaders: HTTPFields { accepted.responseHeaders.httpFields }

    /// The subprotocol the route's registry chose.
    public var subprotocol: String? { accepted.subprotocol }
}

/// A WebSocket connection installed on another server's channel.
public struct WebSocketServerConnection: Sendable {
    private let upgraded: UpgradedConnection

    init(_ upgraded: UpgradedConnection) { self.upgraded = upgraded }

    /// Runs the route's handler, then the close handshake; returns when the connection is closed.
    public func run() async {
        await withTaskExecutorPreference(upgraded.executor) { await upgraded.serve() }
    }
}

extension HandshakeHeaders {
    /// The same fields as swift-http-types has them (a name it would refuse is left out).
    var httpFields: HTTPFields {
        var fields = HTTPFields()
        for (name, value) in self { if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) } }
        return fields
    }
}

extension HostedWebSocketServer {
    /// What `channel`'s TLS tells ``evaluate(_:remoteAddress:isSecure:values:)``: whether the
    /// host runs SwiftNIO SSL on it, and the client certificate it verified, as
    /// ``TLSPeerCertificate`` (for `context.peerCertificate`). Call on the channel's event loop.
    public static func transportSecurity(of channel: any Channel) -> (isSecure: Bool, values: WebSocketContextValues) {
        var values = WebSocketContextValues()
        guard (try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil else { return (false, values) }
        values[TLSPeerCertificate.self] = try? channel.pipeline.syncOperations.nioSSL_peerCertificate()
        return (true, values)
    }
}
