import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Multiplex

/// A client's channel opens against a server that accepts mux and then says nothing:
/// no channel slot, no answer. The wait must end.
@Suite("Mux: opening a channel on a silent server")
struct SilentServerTests {
    static func client(handshakeTimeout: TimeAmount) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(
            extensions: [Multiplex()], connection: .init(closeTimeout: .milliseconds(500)),
            handshakeTimeout: handshakeTimeout)
    }

    @Test("openChannel fails with channelRefused after the client's handshake timeout")
    func openTimesOut() async throws {
        try await withSilentMuxServer { port in
            let elapsed = Locked<Duration?>(nil)
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/", configuration: Self.client(handshakeTimeout: .milliseconds(500))) {
                _, _, context in
                let start = ContinuousClock.now
                await #expect(throws: MultiplexError.self) { _ = try await context.openChannel(path: "/echo") }
                elapsed.withLock { $0 = ContinuousClock.now - start }
            }
            let waited = try #require(elapsed.value)
            #expect(waited >= .milliseconds(400) && waited < .seconds(5), "waited \(waited)")
        }
    }

    @Test("openChannel ends with CancellationError as soon as its task is cancelled")
    func openIsCancelled() async throws {
        try await withSilentMuxServer { port in
            let outcome = Locked("")
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/", configuration: Self.client(handshakeTimeout: .seconds(20))) {
                _, _, context in
                let open = Task { try await context.openChannel(path: "/echo") }
                try await Task.sleep(for: .milliseconds(200))
                let start = ContinuousClock.now
                open.cancel()
                switch await open.result {
                case .success: outcome.withLock { $0 = "opened" }
                case .failure(let error):
                    let took = ContinuousClock.now - start
                    outcome.withLock { $0 = error is CancellationError && took < .seconds(2) ? "cancelled" : "\(error) after \(took)" }
                }
            }
            #expect(outcome.value == "cancelled")
        }
    }
}

/// Runs `body` with the port of a server that answers the opening handshake with
/// `Sec-WebSocket-Extensions: mux` and then only reads, for one connection. Bounded:
/// the whole run gives up after 30 s.
func withSilentMuxServer(_ body: @escaping @Sendable (_ port: Int) async throws -> Void) async throws {
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    let port = try #require(listener.channel.localAddress?.port)
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    try await connection.executeThenClose { inbound, outbound in
                        var head = ""
                        var answered = false
                        for try await chunk in inbound where !answered {
                            head += String(buffer: chunk)
                            guard head.contains("\r\n\r\n") else { continue }
                            let key =
                                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                                .map { $0.dropFirst("sec-websocket-key:".count).trimmingHTTPWhitespace() } ?? ""
                            try await outbound.write(
                                ByteBuffer(
                                    string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                        + "Connection: Upgrade\r\nSec-WebSocket-Accept: \(WebSocketServerHandshake.acceptValue(forKey: key))\r\n"
                                        + "Sec-WebSocket-Extensions: mux\r\n\r\n"))
                            answered = true
                        }
                    }
                    return
                }
            }
            return false
        }
        group.addTask {
            try await Task.sleep(for: .seconds(30))
            throw TestTimeout(what: "a client against a silent mux server")
        }
        group.addTask {
            try await body(port)
            return true
        }
        // Until the body is done; the timer's error ends it first if it hangs.
        while let bodyDone = try await group.next(), !bodyDone {}
        group.cancelAll()
    }
}
