import Logging
import NIOCore

/// Serves one WebSocket connection: the code behind a subprotocol.
///
/// The same handler runs on a TCP connection, a TLS one or a session an
/// extension carries; nothing in its arguments tells them apart. When `handle` returns,
/// the connection is closed with 1000 if it is still open; when it throws,
/// with 1011.
public protocol WebSocketHandler: Sendable {
    func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws
}

/// A handler written as a closure.
public struct ClosureWebSocketHandler: WebSocketHandler {
    let body: @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void

    public init(_ body: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void) {
        self.body = body
    }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        try await body(inbound, outbound, context)
    }
}

/// What a handler knows about its connection.
public struct WebSocketContext: Sendable {
    /// The opening handshake request (on a client: the one it sent).
    public var request: HandshakeRequest
    /// The subprotocol both ends agreed on, if any.
    public var subprotocol: String?
    /// The extensions in use, in pipeline order.
    public var extensions: [String]
    public var role: WebSocketRole
    public var logger: Logger
    /// Values the transport and the extensions attach to the connection, by key type: how an
    /// extension's features reach handlers without the core naming them (an extension
    /// publishes a key and reads its value back in a `WebSocketContext` extension of its own).
    public var values: WebSocketContextValues

    public init(request: HandshakeRequest, subprotocol: String?, extensions: [String], role: WebSocketRole, logger: Logger,
                values: WebSocketContextValues = WebSocketContextValues()) {
        self.request = request
        self.subprotocol = subprotocol
        self.extensions = extensions
        self.role = role
        self.logger = logger
        self.values = values
    }
}

/// The messages a peer sends, as an async sequence. Iterate it once.
///
/// It ends when the peer closes; if the connection drops or fails, iteration
/// throws. Not reading it stops reading from the network, which slows the
/// sender down (backpressure) instead of growing a queue.
public struct WebSocketInbound: AsyncSequence, Sendable {
    public typealias Element = WebSocketMessage
    public typealias Failure = any Error

    private let base: any AsyncSequence<WebSocketMessage, any Error> & Sendable

    /// Wraps a transport's sequence of messages.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == WebSocketMessage, Base.Failure == any Error {
        self.base = base
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<WebSocketMessage, any Error>
        /// Calls the base's `next()`, not `next(isolation: nil)`: the isolated variant hops to
        /// the generic executor on every call, and a task with an executor preference pays a
        /// status-record lock for each hop (about 4% of a server's CPU in a 16-byte ping-pong, `perf`).
        public mutating func next() async throws -> WebSocketMessage? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
}

/// The transport side of ``WebSocketOutbound``: implemented by the socket
/// transport and by a carried session's endpoint.
public protocol WebSocketOutboundWriter: Sendable {
    /// Sends a message; suspends while the connection cannot take more (backpressure).
    func write(_ message: WebSocketMessage) async throws
    /// Sends a ping with `payload` (at most 125 bytes).
    func ping(_ payload: ByteBuffer) async throws
    /// Starts the closing handshake.
    func close(code: WebSocketCloseCode, reason: String) async throws
}

/// Sends messages to the peer.
public struct WebSocketOutbound: Sendable {
    private let writer: any WebSocketOutboundWriter

    public init(_ writer: any WebSocketOutboundWriter) { self.writer = writer }

    /// Sends a message. Suspends while the peer is not reading fast enough.
    public func send(_ message: WebSocketMessage) async throws { try await writer.write(message) }
    /// Sends a text message.
    public func send(text: String) async throws { try await writer.write(.text(text)) }
    /// Sends a binary message.
    public func send(binary: ByteBuffer) async throws { try await writer.write(.binary(binary)) }
    /// Sends a ping; the pong arrives as the peer's answer and is not surfaced as a message.
    public func ping(_ payload: ByteBuffer = ByteBuffer()) async throws { try await writer.ping(payload) }
    /// Starts the closing handshake; inbound iteration ends when the peer answers.
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") async throws {
        try await writer.close(code: code, reason: reason)
    }
}
