import FuzzDriver
import Logging
import NIOCore
import SwitchboardCore

@testable import Multiplex

/// A server's multiplexing session (control blocks, channel handshakes, quota, logical
/// frames) fed physical messages cut from the input: each is a 2-byte length and that
/// many bytes. A message's length's top bit toggles whether the application is behind
/// (deliveries refused, then read on), so held channels are exercised too.
///
/// Beyond crashes: answers stay within a bound per byte received, as the refusal limit
/// promises.
@_cdecl("FuzzMux_main")
public func fuzzMuxMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzMux)
}

func fuzzMux(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    let host = FuzzHost()
    let session = Session.make()
    session.start(host: host)
    var offset = 0
    var received = 0
    while offset + 2 <= count, !host.failed {
        let word = Int(start[offset]) << 8 | Int(start[offset + 1])
        offset += 2
        let length = min(word & 0x7FFF, count - offset)
        let payload = ByteBuffer(bytes: UnsafeBufferPointer(start: start + offset, count: length))
        offset += length
        received += length
        if word & 0x8000 != 0 {
            host.acceptsMore.toggle()
            if host.acceptsMore { for channel in host.channels { session.readMore(channel) } }
        }
        session.receive(.binary(payload))
    }
    // 256 refusals of at most a few hundred bytes each, plus the starting grants.
    precondition(host.sentBytes <= 64 * received + 256 * 512 + 1024, "answers out of proportion: \(host.sentBytes) for \(received)")
    for channel in host.channels { session.finish(channel, code: .normalClosure, reason: "") }
    session.physicalClosed()
    return 0
}

enum Session {
    static let handshake: WebSocketServerHandshake = {
        var routes = WebSocketRoutes()
        routes.add("/echo", handler: ClosureWebSocketHandler { _, _, _ in })
        return WebSocketServerHandshake(routes: routes)
    }()

    static func make() -> MuxSession {
        let configuration = MuxConfiguration(maxChannels: 8, receiveWindow: 1024, maxFragmentSize: 256)
        let (_, ext) = Multiplex(configuration: configuration).serverAccept(try! ExtensionHeader.parse(["mux; quota=4096"]))!
        let physical = HandshakeRequest(target: "/echo", headers: ["Host": "localhost"])
        return (ext as! MultiplexExtension).makeSession(
            MuxSessionSetup(
                role: .server, request: physical, limits: WebSocketLimits(maxFrameSize: 4096, maxMessageSize: 4096),
                acceptChannel: { handshake.evaluate($0) }, logger: .init(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })))
    }
}

final class FuzzHost: MuxSessionHost {
    var sentBytes = 0
    var isPhysicalWritable = true
    var acceptsMore = true
    var channels: Set<LogicalChannelID> = [1]
    var failed = false

    func sendPhysical(_ message: WebSocketMessage) { sentBytes += message.data.readableBytes }
    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler) { channels.insert(channel.id) }
    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool { acceptsMore }
    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool) {}
    func channelClosed(_ channel: LogicalChannelID) { channels.remove(channel) }
    func failPhysical(code: WebSocketCloseCode, reason: String) { failed = true }
}
