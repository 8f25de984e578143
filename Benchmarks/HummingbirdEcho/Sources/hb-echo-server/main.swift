// hb-echo-server [--port 9002] [--no-deflate] [--deflate-level N]    (port 0 picks a free one; the port is printed on stderr)
//
// hummingbird-websocket 2.8 echoing every message at any path, with
// permessage-deflate at its defaults (`.perMessageDeflate()`) unless
// --no-deflate. One event-loop thread, as the other servers of the comparison.
// Messages up to 16 MiB, no heartbeat pings (the load generator does not
// answer them specially, and the other servers send none either).
import Hummingbird
import HummingbirdWSCompression
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

let arguments = CommandLine.arguments
let port = arguments.firstIndex(of: "--port").flatMap { Int(arguments[$0 + 1]) } ?? 9002
let deflate = !arguments.contains("--no-deflate")
// zlib's level for what the server compresses; default zlib's own (6), as hummingbird's.
let deflateLevel = arguments.firstIndex(of: "--deflate-level").flatMap { Int(arguments[$0 + 1]) }

var logger = Logger(label: "hb-echo")
logger.logLevel = .warning
let extensions: [WebSocketExtensionFactory] = deflate ? [.perMessageDeflate(compressionLevel: deflateLevel, maxDecompressedFrameSize: 16 << 20)] : []
let app = Application(
    router: Router(),
    server: .http1WebSocketUpgrade(
        configuration: .init(ws: .init(maxFrameSize: 16 << 20, extensions: extensions, autoPing: .disabled))
    ) { _, _, _ in
        .upgrade([:]) { inbound, outbound, _ in
            for try await message in inbound.messages(maxSize: 16 << 20) {
                switch message {
                case .binary(let buffer): try await outbound.write(.binary(buffer))
                case .text(let string): try await outbound.write(.text(string))
                }
            }
        }
    },
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        // The line scripts/bench-compare.sh reads the port from (port 0 picks a free one).
        FileHandle.standardError.write("listening on 127.0.0.1:\(channel.localAddress?.port ?? port) deflate=\(deflate)\n")
    },
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1)),
    logger: logger
)
try await app.runService()

enum FileHandle {
    case standardError
    func write(_ text: String) {
        var bytes = Array(text.utf8)
        // Qualified: this method shadows the C `write`.
        #if canImport(Glibc)
            _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        #elseif canImport(Musl)
            _ = bytes.withUnsafeMutableBytes { Musl.write(2, $0.baseAddress, $0.count) }
        #elseif canImport(Darwin)
            _ = bytes.withUnsafeMutableBytes { Darwin.write(2, $0.baseAddress, $0.count) }
        #endif
    }
}
