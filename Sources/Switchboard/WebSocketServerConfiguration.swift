import NIOCore
import NIOSSL
import SwitchboardCore

/// Everything a ``WebSocketServer`` needs.
public struct WebSocketServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Paths and their subprotocol registries.
    public var routes: WebSocketRoutes
    /// Extensions the server can negotiate, e.g. permessage-deflate.
    public var extensions: [any WebSocketExtensionFactory]
    /// Which browser origins may connect. Default: any (set a list for browser-facing servers).
    public var originPolicy: OriginPolicy
    /// TLS for wss; `nil` serves plain ws.
    public var tls: TLSConfiguration?
    public var connection: WebSocketConnectionConfiguration
    /// Answers plain HTTP requests (a page, a health check, a route's WSDL), on WebSocket routes too;
    /// a `nil` answer gives 404, or 426 (Upgrade: websocket) on a WebSocket route.
    /// The answer must reach the client within ``handshakeTimeout``, which also bounds a
    /// client that does not read it.
    public var httpHandler: (@Sendable (HandshakeRequest) -> PlainHTTPResponse?)?
    /// The opening handshake must complete within this time. Default 10 s: generous for a slow
    /// mobile link, short enough that half-open connections do not pile up.
    public var handshakeTimeout: TimeAmount
    /// The request line and headers may not exceed this many bytes (HTTP 431). Default 16 KiB:
    /// browsers send under 2 KiB; cookies can grow it, but not this far.
    public var maxHandshakeSize: Int
    /// How long graceful shutdown waits for peers to answer 1001 before dropping them. Default 5 s.
    public var shutdownTimeout: TimeAmount
    /// How many connections the listener accepts each time its socket has some waiting
    /// (values below 1 count as 1).
    ///
    /// Default 16, Netty's default for a listening channel; SwiftNIO's own is 4. Under a
    /// burst of connects, each wake-up of the listener then takes four times as many: at
    /// 64 clients connecting in a loop, 14-19% more handshakes per second than at 4
    /// (Benchmarks/NIOEcho/README.md, round 5). The price is latency for the other
    /// connections of the listener's event loop, which wait while a batch is accepted and
    /// set up: about 15 µs per connection there (a quarter of a whole handshake's CPU), so
    /// 16 keeps that pause under 0.3 ms.
    public var acceptsPerWakeup: Int
    /// The size, in bytes, of a connection's first read buffer (64 B to 64 KiB); SwiftNIO then
    /// adapts it to what each read brings, between 64 B and 64 KiB.
    ///
    /// Default 1 KiB, half of SwiftNIO's own 2 KiB: a connection keeps its last read buffer
    /// while it is idle, so this is most of its read-side memory, and a handshake request
    /// (a browser's is 400-700 bytes without cookies) fits in one read. A request larger than
    /// the buffer takes two reads and leaves the connection a larger buffer (8 KiB after
    /// 512 B): idle memory grows, nothing else changes. The first large message grows it too.
    public var initialReadBufferSize: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, routes: WebSocketRoutes = WebSocketRoutes(),
        extensions: [any WebSocketExtensionFactory] = [], originPolicy: OriginPolicy = .any,
        tls: TLSConfiguration? = nil, connection: WebSocketConnectionConfiguration = .init(),
        httpHandler: (@Sendable (HandshakeRequest) -> PlainHTTPResponse?)? = nil,
        handshakeTimeout: TimeAmount = .seconds(10), maxHandshakeSize: Int = 16 * 1024,
        shutdownTimeout: TimeAmount = .seconds(5), acceptsPerWakeup: Int = 16, initialReadBufferSize: Int = 1024
    ) {
        self.host = host
        self.port = port
        self.routes = routes
        self.extensions = extensions
        self.originPolicy = originPolicy
        self.tls = tls
        self.connection = connection
        self.httpHandler = httpHandler
        self.handshakeTimeout = handshakeTimeout
        self.maxHandshakeSize = maxHandshakeSize
        self.shutdownTimeout = shutdownTimeout
        self.acceptsPerWakeup = acceptsPerWakeup
        self.initialReadBufferSize = initialReadBufferSize
    }
}
