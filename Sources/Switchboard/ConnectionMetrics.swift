import CoreMetrics
import NIOCore
import SwitchboardCore
import Synchronization

/// What connections count through swift-metrics: a no-op until the application bootstraps a
/// backend (`MetricsSystem.bootstrap`, before it serves), e.g. swift-prometheus as
/// `switchboard serve --metrics` does.
///
/// Names follow OpenTelemetry's style (dotted, lower case; a Prometheus exporter turns the dots
/// into underscores). Labels are bounded whatever peers send: the route as it was added
/// (`/rooms/{id}`, never the request's path), the subprotocol, the role, the direction, and a
/// close code, whose received values past the RFC's own (1000-1015) are counted by class
/// (`3xxx`, `4xxx`, `other`), since a peer picks them.
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `websocket.connections.active` | meter (up and down) | role, route, subprotocol |
/// | `websocket.connections` | counter (opened) | role, route, subprotocol |
/// | `websocket.messages` | counter | role, route, subprotocol, direction |
/// | `websocket.message.bytes` | counter (payload bytes, after decompression) | as above |
/// | `websocket.closes` | counter | role, route, subprotocol, direction, close code |
/// | `websocket.ping.duration` | timer (a heartbeat ping's round trip) | role, route, subprotocol |
/// | `websocket.backpressure.pauses` | counter | role, route, subprotocol, `websocket.backpressure.cause` |
/// | `websocket.server.handshakes` | counter | `http.response.status_code` |
/// | `websocket.client.handshakes` | counter | `http.response.status_code`, or `error.type` without an answer |
///
/// A backpressure pause's cause is `reader` when the application reads slower than the peer
/// sends (reading the socket stops until it catches up), `peer` when the peer reads slower
/// than we send (the socket's buffer passed its high watermark, and senders wait).
///
/// One instance per set of labels, shared by the connections that have them (``shared(role:route:subprotocol:)``):
/// a connection holds a reference, not counters of its own, and a message costs one call per counter.
final class ConnectionMetrics: Sendable {
    private let dimensions: [(String, String)]
    private let active: Meter
    private let opened: Counter
    private let messagesReceived: Counter
    private let messagesSent: Counter
    private let bytesReceived: Counter
    private let bytesSent: Counter
    private let pingDuration: Timer
    private let readerPauses: Counter
    private let peerPauses: Counter

    private struct Labels: Hashable {
        var role: WebSocketRole
        var route: String
        var subprotocol: String?
    }

    /// Bounded by the configuration: roles x routes x subprotocols.
    private static let instances = Mutex<[Labels: ConnectionMetrics]>([:])

    /// The instance for these labels, made on first use.
    static func shared(role: WebSocketRole, route: String, subprotocol: String?) -> ConnectionMetrics {
        let labels = Labels(role: role, route: route, subprotocol: subprotocol)
        return instances.withLock { instances in
            if let existing = instances[labels] { return existing }
            let made = ConnectionMetrics(labels)
            instances[labels] = made
            return made
        }
    }

    private init(_ labels: Labels) {
        dimensions = [
            ("websocket.role", labels.role == .server ? "server" : "client"), ("websocket.route", labels.route),
            ("websocket.subprotocol", labels.subprotocol ?? ""),
        ]
        let received = dimensions + [("websocket.direction", "received")]
        let sent = dimensions + [("websocket.direction", "sent")]
        active = Meter(label: "websocket.connections.active", dimensions: dimensions)
        opened = Counter(label: "websocket.connections", dimensions: dimensions)
        messagesReceived = Counter(label: "websocket.messages", dimensions: received)
        messagesSent = Counter(label: "websocket.messages", dimensions: sent)
        bytesReceived = Counter(label: "websocket.message.bytes", dimensions: received)
        bytesSent = Counter(label: "websocket.message.bytes", dimensions: sent)
        pingDuration = Timer(label: "websocket.ping.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
        readerPauses = Counter(label: "websocket.backpressure.pauses", dimensions: dimensions + [("websocket.backpressure.cause", "reader")])
        peerPauses = Counter(label: "websocket.backpressure.pauses", dimensions: dimensions + [("websocket.backpressure.cause", "peer")])
    }

    func connectionOpened() {
        active.increment()
        opened.increment()
    }

    func connectionClosed() { active.decrement() }

    func received(_ message: WebSocketMessage) {
        messagesReceived.increment()
        bytesReceived.increment(by: message.data.readableBytes)
    }

    func sent(_ message: WebSocketMessage) {
        messagesSent.increment()
        bytesSent.increment(by: message.data.readableBytes)
    }

    /// The pong to a heartbeat ping came back after `nanoseconds`.
    func pingAnswered(after nanoseconds: Int64) { pingDuration.recordNanoseconds(nanoseconds) }

    /// The application fell behind the peer: reading pauses until it catches up.
    func readerPaused() { readerPauses.increment() }

    /// The peer fell behind us: the socket's buffer is past its high watermark and senders wait.
    func peerPaused() { peerPauses.increment() }

    /// A close frame, `sent` by us or received; `nil` code: a close frame without one (1005).
    /// `echoed`: sent, but with the peer's code (the answer to its close), so the peer chose it.
    func close(_ code: WebSocketCloseCode?, sent: Bool, echoed: Bool = false) {
        let label: String
        switch code?.rawValue {
        case nil: label = "1005"
        case let value? where (sent && !echoed) || (1000...1015).contains(value): label = "\(value)"
        case let value? where (3000...3999).contains(value): label = "3xxx"
        case let value? where (4000...4999).contains(value): label = "4xxx"
        default: label = "other"
        }
        Counter(
            label: "websocket.closes",
            dimensions: dimensions + [("websocket.direction", sent ? "sent" : "received"), ("websocket.close.code", label)]
        )
        .increment()
    }

    /// The answer a server gave an upgrade request: 101, or the refusal's status.
    static func handshake(status: Int) {
        Counter(label: "websocket.server.handshakes", dimensions: [("http.response.status_code", "\(status)")]).increment()
    }

    /// How a client's opening handshake ended: the server's status (101 when it upgraded), or,
    /// without an answer, the kind of failure.
    static func clientHandshake(_ outcome: Result<Void, any Error>) {
        let dimension: (String, String)
        switch outcome {
        case .success: dimension = ("http.response.status_code", "101")
        case .failure(WebSocketError.upgradeRefused(let status)): dimension = ("http.response.status_code", "\(status)")
        case .failure(WebSocketError.tlsFailed): dimension = ("error.type", "tls")
        case .failure(WebSocketError.handshakeFailed): dimension = ("error.type", "handshake")
        case .failure(is CancellationError): dimension = ("error.type", "cancelled")
        case .failure(ChannelError.connectTimeout), .failure(WebSocketError.timeout): dimension = ("error.type", "timeout")
        case .failure: dimension = ("error.type", "connection")
        }
        Counter(label: "websocket.client.handshakes", dimensions: [dimension]).increment()
    }
}
