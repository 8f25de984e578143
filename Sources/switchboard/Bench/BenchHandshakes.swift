import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore

/// `switchboard bench --handshakes`: opening handshakes per second.
///
/// C loops on the generator's event loops, each: connect over TCP, send the
/// upgrade request, read the response head, check that it is a 101 with the
/// right `Sec-WebSocket-Accept`, close the TCP connection, start again. Each
/// handshake's time (connect to 101) goes into the latency histogram; a
/// refused or wrong answer is an error and fails the run.
enum BenchHandshakes {
    /// Runs until `stop` and counts into `recorder` (on `loop`).
    static func loop(url: WebSocketURL, loop: any EventLoop, recorder: NIOLoopBound<BenchRecorder>, stop: NIOLoopBound<Box>) {
        let started = monotonicNanoseconds()
        let handshake = WebSocketClientHandshake(host: url.hostHeader, target: url.target)
        let head = HTTPHeadWriter.request(method: "GET", target: handshake.request.target, headers: handshake.request.headers)
        let expected = WebSocketServerHandshake.acceptValue(forKey: handshake.key)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                // Close with RST: thousands of handshakes a second would otherwise fill the ephemeral ports with TIME_WAIT.
                let linger0 = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    ?? channel.eventLoop.makeSucceededVoidFuture()
                return linger0.flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(ResponseReader(request: head, expectedAccept: expected) { result in
                        switch result {
                        case .success:
                            recorder.value.recordEcho(roundTripNanoseconds: monotonicNanoseconds() &- started, payloadBytes: 0)
                        case .failure(let error):
                            recorder.value.recordError("handshake: \(error)")
                        }
                    })
                }
            }
            .connect(host: url.host, port: url.port)
            .flatMap { $0.closeFuture }
            .whenComplete { result in
                if case .failure(let error) = result { recorder.value.recordError("connect: \(error)") }
                if !stop.value.stopped { Self.loop(url: url, loop: loop, recorder: recorder, stop: stop) }
            }
    }

    /// Whether the run is over, on one event loop.
    final class Box {
        var stopped = false
    }

    /// Writes the request when connected, reads the response head, checks it, closes.
    private final class ResponseReader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let request: ByteBuffer
        private let expectedAccept: String
        private let done: (Result<Void, HandshakeCheckError>) -> Void
        private var reader = HTTPHeadReader(limit: 16 * 1024)
        private var finished = false

        struct HandshakeCheckError: Error, CustomStringConvertible {
            var description: String
        }

        init(request: ByteBuffer, expectedAccept: String, done: @escaping (Result<Void, HandshakeCheckError>) -> Void) {
            self.request = request
            self.expectedAccept = expectedAccept
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(request), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !finished else { return }
            do {
                guard let (head, _) = try reader.read(unwrapInboundIn(data)) else { return }
                finish(head.startLine.count >= 2 && head.startLine[1] == "101"
                       && head.headers.single("Sec-WebSocket-Accept") == expectedAccept
                       ? .success(()) : .failure(HandshakeCheckError(description: head.startLine.joined(separator: " "))), context: context)
            } catch {
                finish(.failure(HandshakeCheckError(description: "\(error)")), context: context)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !finished { finish(.failure(HandshakeCheckError(description: "closed before the response")), context: context) }
        }

        private func finish(_ result: Result<Void, HandshakeCheckError>, context: ChannelHandlerContext) {
            finished = true
            done(result)
            context.close(promise: nil)
        }
    }
}
