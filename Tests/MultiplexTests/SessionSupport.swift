import Logging
import NIOCore
import SwitchboardCore
import SwitchboardTestSupport

@testable import Multiplex

/// A transport stand-in that records what a session asks of it.
final class RecordingHost: MuxSessionHost {
    var sent: [MuxMessage] = []
    var isPhysicalWritable = true
    var opened: [(channel: OpenedLogicalChannel, handler: any WebSocketHandler)] = []
    var delivered: [(LogicalChannelID, WebSocketMessage)] = []
    /// What `deliver` answers: `false` says the application has enough.
    var acceptsMore = true
    var ended: [(LogicalChannelID, WebSocketCloseFrame?, Bool)] = []
    var closed: [LogicalChannelID] = []
    var physicalFailure: WebSocketCloseCode?

    func sendPhysical(_ message: WebSocketMessage) {
        precondition(message.kind == .binary, "a multiplexed message is binary")
        sent.append(try! MuxMessage(parsing: message))
    }
    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler) { opened.append((channel, handler)) }
    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool {
        delivered.append((channel, message))
        return acceptsMore
    }
    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool) { ended.append((channel, close, failed)) }
    func channelClosed(_ channel: LogicalChannelID) { closed.append(channel) }
    func failPhysical(code: WebSocketCloseCode, reason: String) { physicalFailure = code }

    /// Every control block sent so far, in order, and forgets them with the rest.
    func takeControl() -> [MuxControlBlock] {
        defer { sent.removeAll() }
        return sent.flatMap { if case .control(let blocks) = $0 { return blocks } else { return [] } }
    }

    /// Every logical frame sent so far, in order, and forgets them with the rest.
    func takeFrames() -> [(MuxChannelID, WireFrame)] {
        defer { sent.removeAll() }
        return sent.compactMap { if case .frame(let id, let frame) = $0 { return (id, frame) } else { return nil } }
    }

    /// The drop codes of the DropChannel blocks sent, by channel.
    func drops() -> [(MuxChannelID, MuxDropCode?)] {
        sent.flatMap { message -> [(MuxChannelID, MuxDropCode?)] in
            guard case .control(let blocks) = message else { return [] }
            return blocks.compactMap { if case .dropChannel(let d) = $0 { return (d.channel, d.reason?.code) } else { return nil } }
        }
    }
}

let echoHandler = ClosureWebSocketHandler { inbound, outbound, _ in
    for try await message in inbound { try await outbound.send(message) }
}

/// A server session for `/echo` (and `/chat` requiring the `chat.v1` subprotocol), started on a recording host.
func serverSession(
    configuration: MuxConfiguration = .init(), offer: String = "mux; quota=1000",
    limits: WebSocketLimits = .default, serverExtensions: [any WebSocketExtensionFactory] = [],
    logger: Logger = Logger(label: "test")
) throws -> (MuxSession, RecordingHost) {
    var routes = WebSocketRoutes()
    routes.add("/echo", handler: echoHandler)
    var chat = SubprotocolRegistry(requiresSubprotocol: true)
    chat.register("chat.v1", echoHandler)
    routes.add("/chat", chat)
    let handshake = WebSocketServerHandshake(routes: routes, extensions: serverExtensions)
    let (_, ext) = Multiplex(configuration: configuration).serverAccept(try ExtensionHeader.parse([offer]))!
    let physical = HandshakeRequest(target: "/echo", headers: ["Host": "localhost", "Origin": "http://localhost"])
    let session = (ext as! MultiplexExtension).makeSession(
        MuxSessionSetup(
            role: .server, request: physical, limits: limits,
            acceptChannel: { handshake.evaluate($0) }, logger: logger))
    let host = RecordingHost()
    session.start(host: host)
    return (session, host)
}

/// A client session whose server granted `slots` slots of `quota` and `implicitQuota` on channel 1.
func clientSession(slots: Int = 4, quota: Int = 1000, implicitQuota: Int = 1000) throws -> (MuxSession, RecordingHost) {
    let ext = try Multiplex().clientAccept(ExtensionOffer("mux"))
    let physical = HandshakeRequest(target: "/echo", headers: ["Host": "localhost"])
    let session = (ext as! MultiplexExtension).makeSession(
        MuxSessionSetup(
            role: .client, request: physical, limits: .default, logger: Logger(label: "test")))
    let host = RecordingHost()
    session.start(host: host)
    session.receive(
        control(
            .flowControl(MuxFlowControl(channel: 1, quota: implicitQuota)),
            .newChannelSlot(MuxNewChannelSlot(slots: slots, initialQuota: quota))))
    return (session, host)
}

/// A physical message holding control blocks.
func control(_ blocks: MuxControlBlock...) -> WebSocketMessage {
    .binary(MuxMessage.control(blocks).payload())
}

/// A physical message holding one logical frame.
func logical(_ channel: MuxChannelID, _ frame: WireFrame) -> WebSocketMessage {
    .binary(MuxMessage.frame(channel, frame).payload())
}

func text(_ string: String, fin: Bool = true) -> WireFrame {
    WireFrame(fin: fin, opcode: .text, payload: ByteBuffer(string: string))
}

/// An identity AddChannelRequest as mod_pywebsocket's test client writes it.
func addChannel(_ channel: MuxChannelID, path: String = "/echo", extra: String = "") -> WebSocketMessage {
    control(
        .addChannelRequest(
            MuxAddChannelRequest(
                channel: channel,
                handshake: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost\r\nConnection: Upgrade\r\n\(extra)\r\n")))
}

/// A log handler that keeps each line's level and message, for tests that count them.
struct RecordingLogHandler: LogHandler {
    let lines: Locked<[(level: Logger.Level, message: String)]>
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        lines.withLock { $0.append((level, message.description)) }
    }
}
