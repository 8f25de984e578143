import NIOCore
import NIOSSL
import SwitchboardCore

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
