/// A route's check before the 101: it sees the upgrade request and accepts it, with values the
/// handler reads from ``WebSocketContext/values``, or rejects it with an HTTP answer.
///
/// It runs in a task of its own once the handshake's own checks have passed (a malformed
/// handshake, or one from an origin the policy refuses, never reaches it), within the server's
/// handshake timeout: a hook slower than that loses the connection. Channels a multiplexing
/// extension opens are refused (403) on routes that have a hook: a session's handshake is
/// answered without waiting, so the hook could not run for it.
public typealias WebSocketAcceptHook = @Sendable (WebSocketUpgradeRequest) async -> WebSocketAcceptDecision

/// What an accept hook sees of an upgrade.
public struct WebSocketUpgradeRequest: Sendable {
    /// The handshake request: path, query, headers (``HandshakeRequest/cookies``), remote address.
    public var request: HandshakeRequest
    /// The parameters of the route's path (`id` of `/rooms/{id}`).
    public var pathParameters: [String: String]
    /// The subprotocol the registry chose.
    public var subprotocol: String?
    /// What the transport knows of the connection (the TLS peer certificate, under the
    /// transport's key); the accept's values are added to these.
    public var values: WebSocketContextValues

    public init(
        request: HandshakeRequest, pathParameters: [String: String] = [:], subprotocol: String? = nil, values: WebSocketContextValues = .init()
    ) {
        self.request = request
        self.pathParameters = pathParameters
        self.subprotocol = subprotocol
        self.values = values
    }
}

/// An accept hook's answer.
public enum WebSocketAcceptDecision: Sendable {
    /// Upgrade; `values` join the handler's ``WebSocketContext/values`` (an identity, under a key of the app's).
    case accept(WebSocketContextValues = WebSocketContextValues())
    /// Answer with this status, headers (`WWW-Authenticate`) and body (the reason), and close.
    case reject(HandshakeRejection)
}
