import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

// Helpers for loopback tests: a bounded wait that cannot hang, a server run in
// a task group on port 0, and raw TCP peers that speak bytes only.

/// Runs `body` and gives up after `seconds`, even if `body` ignores cancellation
/// (it is cancelled and left behind), so a hanging transport fails the test instead of hanging it.
func withTimeout<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let slot = Locked<CheckedContinuation<T, any Error>?>(nil)
    let timer = Locked<Task<Void, Never>?>(nil)
    func finish(_ result: Result<T, any Error>) -> Bool {
        guard
            let continuation = slot.withLock({ c -> CheckedContinuation<T, any Error>? in
                defer { c = nil }
                return c
            })
        else { return false }
        continuation.resume(with: result)
        return true
    }
    return try await withCheckedThrowingContinuation { continuation in
        slot.withLock { $0 = continuation }
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            _ = finish(result)
            timer.value?.cancel()
        }
        timer.withLock {
            $0 = Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled else { return }
                if finish(.failure(TestTimeout(what: what))) { work.cancel() }
            }
        }
    }
}

/// A server configuration for tests: loopback, port 0, short shutdown.
func testConfiguration(
    _ routes: WebSocketRoutes, connection: WebSocketConnectionConfiguration = .init(),
    edit: (inout WebSocketServerConfiguration) -> Void = { _ in }
) -> WebSocketServerConfiguration {
    var configuration = WebSocketServerConfiguration(
        host: "127.0.0.1", port: 0, routes: routes, connection: connection,
        shutdownTimeout: .seconds(1))
    edit(&configuration)
    return configuration
}

/// Runs a server, calls `body` with it and its port, then stops it.
func withServer<T: Sendable>(
    _ configuration: WebSocketServerConfiguration,
    _ body: @escaping @Sendable (_ server: WebSocketServer, _ port: Int) async throws -> T
) async throws -> T {
    try await withLoopbackServer(configuration, body)
}

/// Echoes every message back.
let echoHandler = ClosureWebSocketHandler { inbound, outbound, _ in
    for try await message in inbound { try await outbound.send(message) }
}

func echoRoutes() -> WebSocketRoutes {
    var routes = WebSocketRoutes()
    routes.add("/echo", handler: echoHandler)
    return routes
}

func url(_ port: Int, _ path: String = "/echo") -> String { "ws://127.0.0.1:\(port)\(path)" }

extension WebSocketClientConfiguration {
    /// Short timeouts, so that a failure shows within the test's bounds.
    static func test(
        subprotocols: [String] = [], connection: WebSocketConnectionConfiguration = .init(closeTimeout: .seconds(2))
    )
        -> WebSocketClientConfiguration
    {
        WebSocketClientConfiguration(subprotocols: subprotocols, connection: connection, handshakeTimeout: .seconds(5))
    }
}

// MARK: Raw TCP peers

/// One TCP connection driven by hand: bytes out, an HTTP head or WebSocket frames in.
final class RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var pending = ByteBuffer()
    private var parser: FrameParser

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, role: WebSocketRole) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.parser = FrameParser(role: role, maxFrameSize: 1 << 24)
    }

    func send(_ bytes: [UInt8]) async throws { try await outbound.write(ByteBuffer(bytes: bytes)) }
    func send(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text)) }

    /// Reads more bytes; `false` at end of stream.
    private func fill() async throws -> Bool {
        guard var more = try await inbound.next() else { return false }
        pending.writeBuffer(&more)
        return true
    }

    /// The next HTTP head (up to the blank line), or `nil` at end of stream.
    func readHead() async throws -> String? {
        while true {
            let view = pending.readableBytesView
            if let end = view.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
                pending.moveReaderIndex(forwardBy: end.upperBound - view.startIndex)
                return head
            }
            guard try await fill() else { return nil }
        }
    }

    /// The next WebSocket frame, or `nil` at end of stream.
    func readFrame() async throws -> WireFrame? {
        while true {
            if case .frame(let frame) = try parser.next(from: &pending) { return frame }
            guard try await fill() else { return nil }
        }
    }

    /// Reads until the peer closes; returns what arrived.
    func readToEnd() async throws -> [UInt8] {
        while try await fill() {}
        return Array(pending.readableBytesView)
    }
}

/// Opens a raw TCP connection to the port and runs `body` on it.
func withRawClient<T: Sendable>(port: Int, _ body: (RawConnection) async throws -> T) async throws -> T {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await body(RawConnection(inbound, outbound, role: .client))
    }
}

/// A valid opening handshake request, as bytes.
func handshakeRequest(_ path: String = "/echo", extra: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n"
}

/// The status code of an HTTP response head.
func status(of head: String?) -> Int? {
    guard let head else { return nil }
    let parts = head.split(separator: " ", maxSplits: 2)
    return parts.count >= 2 ? Int(parts[1]) : nil
}

/// A masked frame as a client sends it.
func maskedFrame(_ opcode: WireOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    var buffer = ByteBuffer()
    FrameWriter.write(
        WireFrame(fin: fin, opcode: opcode, payload: ByteBuffer(bytes: payload)),
        maskingKey: WireMaskingKey(1, 2, 3, 4), into: &buffer)
    return Array(buffer.readableBytesView)
}

func closeCode(of frame: WireFrame?) -> UInt16? {
    guard let frame, frame.opcode == .close else { return nil }
    return (try? WebSocketCloseFrame(parsing: frame.payload))?.code?.rawValue
}
