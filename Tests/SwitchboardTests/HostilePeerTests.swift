import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Peers that hang up at the worst moment. Each case runs many times, because which
/// moment a hang-up meets (before, while or after our handlers go in) is a race.
@Suite("Hostile peers: hang-ups at the worst moment")
struct HostilePeerTests {
    @Test("A client whose proxy answers 200 and hangs up at once fails the handshake, and does not hang")
    func proxyAnswersThenHangsUp() async throws {
        try await withTimeout(60, "a proxy that answers and hangs up") {
            try await withScriptedPeer(.answerThenClose("HTTP/1.1 200 Connection established\r\n\r\n")) { port in
                for _ in 0..<30 {
                    var configuration = WebSocketClientConfiguration.test()
                    configuration.proxy = HTTPProxy(host: "127.0.0.1", port: port)
                    await #expect(throws: WebSocketError.self) {
                        try await WebSocketConnector.connect(to: "ws://127.0.0.1:1/echo", configuration: configuration) { _, _, _ in }
                    }
                }
            }
        }
    }

    @Test("A client whose server resets the connection as it accepts it fails the handshake, and does not hang")
    func serverResetsOnAccept() async throws {
        try await withTimeout(60, "a server that resets on accept") {
            try await withScriptedPeer(.resetOnAccept) { port in
                for _ in 0..<30 {
                    // The reset can come before TCP's connect has finished: a connection error, not a handshake one.
                    do {
                        try await WebSocketConnector.connect(to: url(port), configuration: .test()) { _, _, _ in }
                        Issue.record("connected to a server that resets every connection")
                    } catch is WebSocketError {
                    } catch is NIOConnectionError {
                    }
                }
            }
        }
    }
}

/// What a ``ScriptedPeer`` does to each connection.
enum PeerScript: Sendable {
    /// Resets the connection (SO_LINGER 0) as soon as it is accepted.
    case resetOnAccept
    /// Waits for the first bytes, answers with these and closes.
    case answerThenClose(String)
}

/// A TCP server that plays a ``PeerScript`` on every connection.
final class ScriptedPeer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: PeerScript

    init(_ script: PeerScript) { self.script = script }

    func channelActive(context: ChannelHandlerContext) {
        if case .resetOnAccept = script {
            // On the channel's own loop the option is set before this returns, so the close resets.
            _ = (context.channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .answerThenClose(let answer) = script, context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        context.close(promise: nil)
    }
}

/// Runs a ``ScriptedPeer`` on a loopback port for `body`.
func withScriptedPeer<T: Sendable>(_ script: PeerScript, _ body: (_ port: Int) async throws -> T) async throws -> T {
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedPeer(script)) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    do {
        let result = try await body(try #require(listener.localAddress?.port))
        try await listener.close()
        return result
    } catch {
        try? await listener.close()
        throw error
    }
}
