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

/// Everything a ``WebSocketClient`` connection needs besides the URL.
public struct WebSocketClientConfiguration: Sendable {
    /// Subprotocols to offer, most preferred first.
    public var subprotocols: [String]
    /// Extensions to offer.
    public var extensions: [any WebSocketExtensionFactory]
    /// Extra request headers, e.g. `Origin` or `Authorization`.
    public var headers: HandshakeHeaders
    /// TLS settings for wss; the default verifies the server's certificate against the system's roots.
    public var tls: TLSConfiguration
    public var proxy: HTTPProxy?
    public var connection: WebSocketConnectionConfiguration
    /// TCP connect, proxy tunnel, TLS and the HTTP upgrade must all finish within this time. Default 10 s.
    /// A session carried by an extension (a logical channel) waits as long for the server to open it.
    public var handshakeTimeout: TimeAmount
    /// The response head may not exceed this many bytes. Default 16 KiB.
    public var maxHandshakeSize: Int

    public init(
        subprotocols: [String] = [], extensions: [any WebSocketExtensionFactory] = [], headers: HandshakeHeaders = [:],
        tls: TLSConfiguration = .makeClientConfiguration(), proxy: HTTPProxy? = nil,
        connection: WebSocketConnectionConfiguration = .init(), handshakeTimeout: TimeAmount = .seconds(10),
        maxHandshakeSize: Int = 16 * 1024
    ) {
        self.subprotocols = subprotocols
        self.extensions = extensions
        self.headers = headers
        self.tls = tls
        self.proxy = proxy
        self.connection = connection
        self.handshakeTimeout = handshakeTimeout
        self.maxHandshakeSize = maxHandshakeSize
    }
}
