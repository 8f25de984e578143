import NIOCore
import NIOSSL
import SwitchboardCore

/// An HTTP proxy reached with `CONNECT` (RFC 9110 §9.3.6).
///
/// With wss through a proxy, the socket's peer is the proxy, so the client checks the
/// server certificate's name itself, against the URL's host, before it sends its request:
/// SwiftNIO SSL would compare the certificate's IP entries with the proxy's address. The
/// chain is still verified by SwiftNIO SSL against ``WebSocketClientConfiguration/tls``'s
/// trust roots; the name rules are RFC 6125's strict ones (no common name, a wildcard only
/// as a whole left-most label).
public struct HTTPProxy: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// Sent as `Proxy-Authorization`, e.g. `Basic dXNlcjpwYXNz`.
    public var authorization: String?

    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }
}
