/// Errors the library reports to its user.
public enum WebSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection is closing or closed; nothing more can be sent.
    case connectionClosed
    /// The opening handshake failed; the string says which check.
    case handshakeFailed(String)
    /// A limit or timeout of the configuration was hit.
    case timeout(String)

    public var description: String {
        switch self {
        case .connectionClosed: return "the WebSocket connection is closed"
        case .handshakeFailed(let why): return "WebSocket handshake failed: \(why)"
        case .timeout(let what): return "timed out: \(what)"
        }
    }
}
