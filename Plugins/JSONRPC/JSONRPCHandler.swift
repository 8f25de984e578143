import SwitchboardCore

/// Speaks JSON-RPC 2.0 on a WebSocket connection, on either end: serves
/// ``methods`` to the peer and, with a `session`, calls the peer's.
///
/// A server registers it under ``defaultToken`` and as the route's default
/// (see ``SwitchboardCore/SubprotocolRegistry/jsonRPC(_:token:)``):
///
/// ```swift
/// var methods = JSONRPCMethods()
/// methods.register("sum") { (numbers: [Int], _) in numbers.reduce(0, +) }
/// var routes = WebSocketRoutes()
/// routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods)))
/// ```
///
/// A client runs its conversation as the `session`, and may serve methods too
/// (the server can call them while the session waits on the server):
///
/// ```swift
/// let client = JSONRPCHandler(methods: clientMethods) { server in
///     let sum: Int = try await server.call("sum", [1, 2, 4])
/// }
/// try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [JSONRPCHandler.defaultToken])) {
///     try await client.handle($0, $1, context: $2)
/// }
/// ```
///
/// Each message is one request, notification or response, or a batch of them;
/// text and binary messages are both read as UTF-8 JSON, and answers are text.
/// A call to a method that does not await is answered at once, in the task that reads;
/// calls to methods that await run concurrently and are answered as they finish, at most
/// ``JSONRPCConfiguration/maxConcurrentCalls`` at once (see ``JSONRPCMethods``). When the connection
/// closes, calls still running are cancelled and our calls still waiting fail
/// with ``JSONRPCCallError/connectionClosed``.
public struct JSONRPCHandler: WebSocketHandler {
    /// `jsonrpc`, the subprotocol token offered and served by default.
    ///
    /// IANA registers no token for JSON-RPC. `jsonrpc` is the name of the
    /// protocol's own version member and what JSON-RPC-over-WebSocket servers
    /// that negotiate a token commonly use; it is a valid RFC 6455 token and
    /// carries no version, since `"jsonrpc": "2.0"` in every message already
    /// does. Serve another token by registering the handler under it; clients
    /// that offer none are served through the route's default handler.
    public static let defaultToken = "jsonrpc"

    /// The methods this end serves.
    public var methods: JSONRPCMethods
    public var configuration: JSONRPCConfiguration
    private let session: (@Sendable (JSONRPCPeer) async throws -> Void)?

    /// - Parameters:
    ///   - methods: the methods this end serves.
    ///   - configuration: limits, concurrency and timeouts.
    ///   - session: what this end does with the peer, if anything
    ///     (a client's calls). When it returns, the connection closes with 1000;
    ///     when it throws, with 1011 (and ``handle(_:_:context:)`` rethrows).
    ///     Without a session, the handler serves until the peer closes. When
    ///     the peer closes first, the session is cancelled.
    public init(
        methods: JSONRPCMethods = JSONRPCMethods(), configuration: JSONRPCConfiguration = JSONRPCConfiguration(),
        session: (@Sendable (JSONRPCPeer) async throws -> Void)? = nil
    ) {
        self.methods = methods
        self.configuration = configuration
        self.session = session
    }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        let peer = JSONRPCPeer(outbound: outbound, context: context, configuration: configuration)
        let connection = JSONRPCConnection(peer: peer, methods: methods, configuration: configuration)
        try await connection.run(inbound, outbound: outbound, session: session)
    }
}
