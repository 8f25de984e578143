import NIOCore
import SwitchboardCore

// A user's session extension, written outside the library against the core's contract
// only: `x-twin` carries two sessions over one socket. Every physical message starts with
// one byte, the session it belongs to (1 or 2). Session 1 is the socket's own; the server
// opens session 2 at once, routed like the socket's request, and a client's handler opens
// its end through the context value the carrier publishes. A toy: no flow control, no
// close handshake per session. It shows that an extension as capable as Multiplex plugs
// in without the core or the transport knowing it.

struct TwinSessions: WebSocketExtensionFactory {
    static let token = "x-twin"
    var token: String { Self.token }

    func clientOffers() -> [ExtensionOffer] { [ExtensionOffer(token)] }

    func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        TwinExtension()
    }

    func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        (ExtensionOffer(token), TwinExtension())
    }
}

struct TwinExtension: WebSocketSessionExtension {
    var name: String { TwinSessions.token }

    func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
    func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }

    func makeSessionCarrier(host: any WebSocketSessionHost) -> any WebSocketSessionCarrier { TwinCarrier(host: host) }
}

/// Why session 2 could not be opened.
struct TwinRefused: Error, Equatable {
    var reason: String
}

/// How a client's handler reaches session 2: published in the socket's context values.
struct TwinOpener: Sendable {
    enum Key: WebSocketContextKey {
        typealias Value = TwinOpener
    }

    let carrier: NIOLoopBound<TwinCarrier>

    func openSecond() async throws -> WebSocketSession {
        let carrier = self.carrier
        return try await carrier.eventLoop.submit { try carrier.value.openSecond() }.get()
    }
}

final class TwinCarrier: WebSocketSessionCarrier {
    private weak var host: (any WebSocketSessionHost)?
    private var endpoints: [UInt8: any WebSocketSessionEndpoint] = [:]
    private var secondOpened = false

    init(host: any WebSocketSessionHost) { self.host = host }

    func start() -> any WebSocketSessionEndpoint {
        let host = host!
        var values = WebSocketContextValues()
        if host.context.role == .client { values[TwinOpener.Key.self] = TwinOpener(carrier: NIOLoopBound(self, eventLoop: host.eventLoop)) }
        let first = makeEndpoint(1, subprotocol: host.context.subprotocol, values: values)
        // The server opens session 2 for the socket's own request, through the server's own checks.
        if case .accept(let accepted)? = host.evaluate?(host.context.request) {
            secondOpened = true
            host.run(accepted.handler, on: makeEndpoint(2, subprotocol: accepted.subprotocol))
        }
        return first
    }

    /// Client: session 2 is already open on the server; opening it here only makes its ends.
    func openSecond() throws -> WebSocketSession {
        guard let host, host.context.role == .client, !secondOpened else { throw TwinRefused(reason: "x-twin has one more session") }
        secondOpened = true
        return makeEndpoint(2, subprotocol: nil).session
    }

    func receive(_ message: WebSocketMessage) {
        var payload = message.data
        guard let number = payload.readInteger(as: UInt8.self), let endpoint = endpoints[number] else {
            host?.fail(code: .protocolError, reason: "x-twin: message for no session")
            return
        }
        _ = endpoint.deliver(WebSocketMessage(kind: message.kind, data: payload))
    }

    func writabilityChanged() {}

    func connectionClosed() {
        for endpoint in endpoints.values { endpoint.endInbound(failed: false) }
        endpoints.removeAll()
    }

    func send(_ message: WebSocketMessage, on number: UInt8) -> Bool {
        guard endpoints[number] != nil, let host else { return false }
        var framed = host.allocator.buffer(capacity: message.data.readableBytes + 1)
        framed.writeInteger(number)
        framed.writeImmutableBuffer(message.data)
        host.send(WebSocketMessage(kind: message.kind, data: framed))
        return true
    }

    func end(_ number: UInt8) {
        guard let endpoint = endpoints.removeValue(forKey: number) else { return }
        endpoint.endInbound(failed: false)
        endpoint.close()
    }

    private func makeEndpoint(
        _ number: UInt8, subprotocol: String?, values: WebSocketContextValues = WebSocketContextValues()
    ) -> any WebSocketSessionEndpoint {
        let host = host!
        let context = WebSocketContext(
            request: host.context.request, subprotocol: subprotocol, extensions: [], role: host.context.role,
            logger: host.context.logger, values: values)
        let endpoint = host.makeEndpoint(context: context, delegate: TwinLink(carrier: self, number: number))
        endpoints[number] = endpoint
        return endpoint
    }
}

/// One session's handler, as its carrier hears it.
final class TwinLink: WebSocketSessionDelegate {
    private weak var carrier: TwinCarrier?
    let number: UInt8

    init(carrier: TwinCarrier, number: UInt8) {
        self.carrier = carrier
        self.number = number
    }

    func send(_ message: WebSocketMessage, completion: @escaping (Result<Void, WebSocketError>) -> Void) {
        completion(carrier?.send(message, on: number) == true ? .success(()) : .failure(.connectionClosed))
    }

    func ping(_ payload: ByteBuffer) {}

    func close(code: WebSocketCloseCode, reason: String) { carrier?.end(number) }

    func handlerFinished(code: WebSocketCloseCode, reason: String) { carrier?.end(number) }

    func readMore() {}
}
