// The bare-SwiftNIO WebSocket echo server that issue 6 measures Switchboard against.
//
//     nio-echo-server [--host 127.0.0.1] [--port 9001] [--threads 1] [--max-frame-size 16777216] [--accepts-per-wakeup N]
//
// What it is, on purpose, and nothing more: NIOHTTP1's server pipeline with
// NIOWebSocket's `NIOWebSocketServerUpgrader` (any path upgrades, no
// subprotocol, no extension), then a channel handler on the event loop that
// echoes every text, binary and continuation frame as it comes (same opcode,
// same FIN bit: a fragmented message comes back fragmented the same way),
// answers pings, and answers a close with a close carrying the same code.
// Writes are flushed once per read batch. One event-loop thread by default.
//
// It does what a "frame echo handler" written by a careful user of SwiftNIO
// does; it does not do what NIOWebSocket does not do for you (it does not
// check UTF-8 of text or fragment order; Switchboard does both), so where the
// two differ, the reference is the faster one, as a reference should be.
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Echoes data frames, answers pings and closes, on the event loop.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private var sentClose = false
    private var needsFlush = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            guard !sentClose else { return }
            let echo = WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
            context.write(wrapOutboundOut(echo), promise: nil)
            needsFlush = true
        case .ping:
            guard !sentClose else { return }
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
            needsFlush = true
        case .pong:
            break
        case .connectionClose:
            // Answer with the peer's status code (RFC 6455 §5.5.1), then close TCP: the server closes first (§7.1.1).
            guard !sentClose else {
                context.close(promise: nil)
                return
            }
            sentClose = true
            var payload = frame.unmaskedData
            let code = payload.readSlice(length: 2) ?? ByteBuffer()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                .whenComplete { _ in channel.close(promise: nil) }
            needsFlush = false
        default:
            // Reserved opcodes: NIOWebSocket's decoder already refuses them; be safe.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Answers plain HTTP requests (anything that is not an upgrade) with 426 and closes.
final class NotWebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Upgrade", value: "websocket")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .upgradeRequired, headers: headers))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

struct Options {
    var host = "127.0.0.1"
    var port = 9001
    var threads = 1
    var maxFrameSize = 16 << 20
    /// `nil`: SwiftNIO's default (4). Only for attributing Switchboard's listener setting.
    var acceptsPerWakeup: Int?

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ name: String) -> String {
            guard let v = rest.popFirst() else { usage("\(name) needs a value") }
            return v
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--host": options.host = value(argument)
            case "--port": options.port = number(value(argument), argument)
            case "--threads": options.threads = number(value(argument), argument)
            case "--max-frame-size": options.maxFrameSize = number(value(argument), argument)
            case "--accepts-per-wakeup": options.acceptsPerWakeup = max(1, number(value(argument), argument))
            case "-h", "--help": usage(nil)
            default: usage("unknown argument \(argument)")
            }
        }
        return options
    }
}

func number(_ text: String, _ option: String) -> Int {
    guard let n = Int(text), n >= 0 else { usage("\(option) takes a number") }
    return n
}

/// Writes to standard error (fd 2) without touching the C `stderr` global, which Swift 6 refuses.
func printError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

func usage(_ error: String?) -> Never {
    let text = "usage: nio-echo-server [--host 127.0.0.1] [--port 9001] [--threads 1] [--max-frame-size 16777216] [--accepts-per-wakeup N]\n"
    if let error {
        printError("error: \(error)\n\(text)")
        exit(2)
    }
    print(text, terminator: "")
    exit(0)
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
let maxFrameSize = options.maxFrameSize

let upgrader = NIOWebSocketServerUpgrader(
    maxFrameSize: maxFrameSize,
    automaticErrorHandling: true,
    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
    upgradePipelineHandler: { channel, _ in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }
)

var bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)  // not .socketOption: that is SO_DEBUG on Linux
    .childChannelInitializer { channel in
        let upgrade: NIOHTTPServerUpgradeSendableConfiguration = (
            upgraders: [upgrader],
            completionHandler: { context in
                // Upgraded: the plain-HTTP handler has nothing more to do.
                context.pipeline.removeHandler(name: "not-websocket", promise: nil)
            }
        )
        return channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: upgrade).flatMapThrowing {
            try channel.pipeline.syncOperations.addHandler(NotWebSocketHandler(), name: "not-websocket")
        }
    }
if let accepts = options.acceptsPerWakeup {
    bootstrap = bootstrap.serverChannelOption(.maxMessagesPerRead, value: UInt(accepts))
}

do {
    let server = try bootstrap.bind(host: options.host, port: options.port).wait()
    let address = server.localAddress
    printError(
        "nio-echo-server listening on \(address?.ipAddress ?? options.host):\(address?.port ?? options.port), \(options.threads) event-loop thread(s)\n"
    )
    try server.closeFuture.wait()
} catch {
    printError("error: \(error)\n")
    exit(1)
}
