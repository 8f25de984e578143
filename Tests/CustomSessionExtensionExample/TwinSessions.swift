import NIOCore
import SwitchboardCore

// A user's session extension, written outside the library against the core's contract
// only: `x-twin` carries two sessions over one socket. Every physical message starts with
// one byte, the session it belongs to (1 or 2). Session 1 is the socket's own; the server
// opens session 2 at once, routed like the socket's request. A toy: no flow control, no
// close handshake per session. It shows that an extension as capable as Multiplex plugs
// in without the core or the transport knowing it.

struct TwinSessions: WebSocketExtensionFactory {
    static let token = "x-twin"
    var token: String { Self.token }

    func clientOffers() -> [ExtensionOffer] { [ExtensionOffer(token)] }

    func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        TwinExtension(sessionExtensions: [])
    }

    func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        (ExtensionOffer(token), TwinExtension(sessionExtensions: []))
    }
}

struct TwinExtension: WebSocketMultiplexingExtension {
    let sessionExtensions: [any WebSocketExtension]
    var name: String { TwinSessions.token }
    var channelExtensions: [any WebSocketExtension] { sessionExtensions }

    func decode(_ frame: WebSocketFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
    func encode(_ frame: WebSocketFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }

    func makeSession(_ setup: MultiplexSessionSetup) -> any WebSocketMultiplexSession { TwinSession(setup: setup) }
}

final class TwinSession: WebSocketMultiplexSession {
    let setup: MultiplexSessionSetup
    weak var host: (any WebSocketMultiplexHost)?
    private var open: Set<LogicalChannelID> = []

    init(setup: MultiplexSessionSetup) { self.setup = setup }

    func start(host: any WebSocketMultiplexHost) {
        self.host = host
        open.insert(1)
        // The server opens session 2 for the socket's own request, through the server's own checks.
        guard setup.role == .server, case .accept(let accepted)? = setup.acceptChannel?(setup.request) else { return }
        open.insert(2)
        host.channelOpened(OpenedLogicalChannel(id: 2, request: setup.request, subprotocol: accepted.subprotocol, extensions: []),
                           handler: accepted.handler)
    }

    func receive(_ message: WebSocketMessage) {
        var payload = message.data
        guard let session = payload.readInteger(as: UInt8.self), open.contains(LogicalChannelID(session)) else {
            host?.failPhysical(code: .protocolError, reason: "x-twin: message for no session")
            return
        }
        _ = host?.deliver(WebSocketMessage(kind: message.kind, data: payload), on: LogicalChannelID(session))
    }

    func send(_ message: WebSocketMessage, on channel: LogicalChannelID, completion: @escaping (Result<Void, WebSocketError>) -> Void) {
        guard open.contains(channel), let host else { return completion(.failure(.connectionClosed)) }
        var framed = setup.allocator.buffer(capacity: message.data.readableBytes + 1)
        framed.writeInteger(UInt8(channel))
        framed.writeImmutableBuffer(message.data)
        host.sendPhysical(WebSocketMessage(kind: message.kind, data: framed))
        completion(.success(()))
    }

    func ping(_ payload: ByteBuffer, on channel: LogicalChannelID) throws(WebSocketError) {}

    func close(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String) { end(channel) }

    func finish(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String) { end(channel) }

    func closeTimedOut(_ channel: LogicalChannelID) {}

    func readMore(_ channel: LogicalChannelID) {}

    func physicalWritabilityChanged() {}

    /// Client: session 2 is already open on the server; opening it here only makes its ends.
    func openChannel(request: HandshakeRequest, subprotocols: [String],
                     completion: @escaping (Result<OpenedLogicalChannel, WebSocketError>) -> Void) {
        guard setup.role == .client, !open.contains(2) else { return completion(.failure(.channelRefused("x-twin has one more session"))) }
        open.insert(2)
        completion(.success(OpenedLogicalChannel(id: 2, request: request, subprotocol: nil, extensions: [])))
    }

    func physicalClosed() {
        for channel in open { host?.inboundEnded(channel, close: nil, failed: false) }
        open.removeAll()
    }

    private func end(_ channel: LogicalChannelID) {
        guard open.remove(channel) != nil else { return }
        host?.inboundEnded(channel, close: nil, failed: false)
        host?.channelClosed(channel)
    }
}
