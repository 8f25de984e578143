import Logging
import NIOCore
import SwitchboardCore

/// What every server-side upgrade does once its 101 is out, on our listener
/// (``ServerHandshakeHandler``) or another server's (``HostedWebSocketServer``): the connection's
/// context and engine, the session plan of a carrying extension, the channel handler.
enum ServerUpgrade {
    /// Installs the accepted connection on `channel` at `position`. Call on the channel's loop.
    static func install(
        _ request: HandshakeRequest, _ accepted: WebSocketServerHandshake.Accepted, values: WebSocketContextValues, span: HandshakeSpan?,
        on channel: any Channel, position: ChannelPipeline.SynchronousOperations.Position, handshake: WebSocketServerHandshake,
        configuration: WebSocketConnectionConfiguration, handshakeTimeout: TimeAmount, logger baseLogger: Logger,
        executor: EventLoopTaskExecutor?
    ) throws -> UpgradedConnection {
        // Not metadata set on a copy of the handler: that cost a dictionary per connection, and a
        // handler may render its metadata on every change (StreamLogHandler does: 1.6% of a
        // server's CPU under a handshake load).
        var logger = baseLogger
        logger.handler = ConnectionLogHandler(logger.handler, peer: request.remoteAddress ?? "?", path: request.path)
        let context = WebSocketContext(
            request: request, subprotocol: accepted.subprotocol, extensions: accepted.extensions.map(\.name), role: .server,
            logger: logger, values: values, pathParameters: accepted.pathParameters)
        let engine = WebSocketEngine(role: .server, limits: configuration.limits, extensions: accepted.extensions, allocator: channel.allocator)
        let plan = SessionPlan.make(
            extensions: accepted.extensions, handshakeTimeout: handshakeTimeout, evaluate: { evaluateSession($0, handshake) })
        let traceContext = span?.upgraded(
            route: accepted.routePath, subprotocol: accepted.subprotocol, extensions: accepted.extensions.map(\.name))
        let connection = try UpgradedConnection.install(
            on: channel, engine: engine, configuration: configuration, context: context, handler: accepted.handler, position: position,
            sessions: plan, executor: executor, route: accepted.routePath, traceContext: traceContext)
        ConnectionMetrics.handshake(status: 101)
        logger.debug("upgraded", metadata: ["subprotocol": "\(accepted.subprotocol ?? "none")"])
        return connection
    }

    /// A session's (a mux channel's) handshake: as a connection's, except on routes with an
    /// accept hook, which a session's synchronous handshake cannot wait for: refused, rather
    /// than let a channel past the route's check.
    static func evaluateSession(_ request: HandshakeRequest, _ handshake: WebSocketServerHandshake) -> WebSocketServerHandshake.Outcome {
        let outcome = handshake.evaluate(request)
        if case .accept(let accepted) = outcome, accepted.accept != nil {
            return .reject(HandshakeRejection(status: 403, reason: "\(request.path) checks each upgrade: open it on a connection of its own"))
        }
        return outcome
    }

    /// The log line and the count of a refused upgrade (by the handshake's own checks, or by the route's hook).
    static func recordRefusal(_ rejection: HandshakeRejection, _ request: HandshakeRequest, byHook: Bool, span: HandshakeSpan?, logger: Logger) {
        ConnectionMetrics.handshake(status: rejection.status)
        span?.refused(status: rejection.status)
        logger.info(
            byHook ? "handshake refused by the route's accept hook" : "handshake refused",
            metadata: [
                "status": "\(rejection.status)", "reason": "\(rejection.reason)", "path": "\(request.path)",
                "peer": "\(request.remoteAddress ?? "?")",
            ])
    }

    /// Runs a route's accept hook, if it has one: the values to add, or the rejection.
    static func runAcceptHook(
        _ hook: WebSocketAcceptHook?, _ request: HandshakeRequest, pathParameters: [String: String], subprotocol: String?,
        values: WebSocketContextValues
    ) async -> Result<WebSocketContextValues, HandshakeRejection> {
        guard let hook else { return .success(values) }
        let upgrade = WebSocketUpgradeRequest(request: request, pathParameters: pathParameters, subprotocol: subprotocol, values: values)
        switch await hook(upgrade) {
        case .accept(let granted):
            var merged = values
            merged.merge(granted)
            return .success(merged)
        case .reject(let rejection):
            return .failure(rejection)
        }
    }
}
