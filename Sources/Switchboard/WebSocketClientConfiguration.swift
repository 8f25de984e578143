import NIOCore
import NIOSSL
import SwitchboardCore

/// Everything a ``WebSocketConnector`` connection needs besides the URL.
public struct WebSocketClientConfiguration: Sendable {
    /// Subprotocols to offer, most preferred first.
    public var subprotocols: [String]
    /// Extensions to offer.
    public var extensions: [any WebSocketExtensionFactory]
    /// Extra request headers, e.g. `Origin` or `Authorization`.
    public var headers: HandshakeHeaders
    /// TLS settings for wss; the default verifies the server's certificate against the system's roots.
    public var tls: TLSConfiguration
    /// An HTTP proxy to tunnel through with `CONNECT`; `nil` connects directly, or through the
    /// environment's proxy when ``proxyFromEnvironment`` is set.
    public var proxy: HTTPProxy?
    /// When ``proxy`` is `nil`, use the proxy that `https_proxy` / `http_proxy` / `all_proxy`
    /// name for the URL, unless `no_proxy` covers its host (``HTTPProxy/fromEnvironment(for:environment:)``).
    /// Default `false`: a library does not route its traffic by its process's environment
    /// unless the application asks it to.
    public var proxyFromEnvironment: Bool
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
        maxHandshakeSize: Int = 16 * 1024, proxyFromEnvironment: Bool = false
    ) {
        self.subprotocols = subprotocols
        self.extensions = extensions
        self.headers = headers
        self.tls = tls
        self.proxy = proxy
        self.connection = connection
        self.handshakeTimeout = handshakeTimeout
        self.maxHandshakeSize = maxHandshakeSize
        self.proxyFromEnvironment = proxyFromEnvironment
    }
}
