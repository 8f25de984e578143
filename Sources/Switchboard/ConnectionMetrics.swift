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
/// | `websocket.server.handshakes` | counter | `http.response.status_code` |
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
}
