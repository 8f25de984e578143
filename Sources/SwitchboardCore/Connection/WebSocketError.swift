/// Errors the library reports to its user.
public enum WebSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection is closing or closed; nothing more can be sent.
    case connectionClosed
    /// The opening handshake failed; the string says which check.
    case handshakeFailed(String)
    /// The server answered the upgrade with this HTTP status instead of 101 (a 401 or 403 from
    /// its authentication, a 404 for an unknown route, a 503 when it is overloaded).
    case upgradeRefused(status: Int)
    /// The HTTP proxy answered `CONNECT` with this status instead of 2xx: a 407 when it wants
    /// credentials the configuration does not give, a 403 when it forbids the destination, a
    /// 502 or 503 when it cannot reach it.
    case proxyRefused(status: Int)
    /// The TLS handshake failed: the server's certificate was not trusted or does not name the
    /// host, or the two sides share no protocol version or cipher. Retrying does not help.
    case tlsFailed(String)
    /// A limit or timeout of the configuration was hit.
    case timeout(String)

    public var description: String {
        switch self {
        case .connectionClosed: return "the WebSocket connection is closed"
        case .handshakeFailed(let why): return "WebSocket handshake failed: \(why)"
        case .upgradeRefused(let status): return "WebSocket upgrade refused: HTTP status \(status)"
        case .proxyRefused(let status): return "the HTTP proxy refused the tunnel: HTTP status \(status)"
        case .tlsFailed(let why): return "TLS handshake failed: \(why)"
        case .timeout(let what): return "timed out: \(what)"
        }
    }
}
