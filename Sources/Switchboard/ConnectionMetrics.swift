import CoreMetrics
import NIOCore
import SwitchboardCore

/// What a connection counts through swift-metrics: a no-op until the application bootstraps a
/// backend (`MetricsSystem.bootstrap`), e.g. swift-prometheus as `switchboard serve --metrics` does.
///
/// Names follow OpenTelemetry's style (dotted, lower case; a Prometheus exporter turns the dots
/// into underscores). Labels are bounded: the route as it was added (`/rooms/{id}`, never the
/// request's path), the subprotocol, the role, the direction, a close code.
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
/// The counters are made once per connection, so a message costs one call per counter.
final class ConnectionMetrics {
    private let dimensions: [(String, String)]
    private let active: Meter
    private let messagesReceived: Counter
    private let messagesSent: Counter
    private let bytesReceived: Counter
    private let bytesSent: Counter
    private var isOpen = false

    init(role: WebSocketRole, route: String, subprotocol: String?) {
        dimensions = [
            ("websocket.role", role == .server ? "server" : "client"), ("websocket.route", route),
            ("websocket.subprotocol", subprotocol ?? ""),
        ]
        let received = dimensions + [("websocket.direction", "received")]
        let sent = dimensions + [("websocket.direction", "sent")]
        active = Meter(label: "websocket.connections.active", dimensions: dimensions)
        messagesReceived = Counter(label: "websocket.messages", dimensions: received)
        messagesSent = Counter(label: "websocket.messages", dimensions: sent)
        bytesReceived = Counter(label: "websocket.message.bytes", dimensions: received)
        bytesSent = Counter(label: "websocket.message.bytes", dimensions: sent)
    }

    func opened() {
        guard !isOpen else { return }
        isOpen = true
        active.increment()
        Counter(label: "websocket.connections", dimensions: dimensions).increment()
    }

    /// Once per connection, however many of the channel's ends report it.
    func closed() {
        guard isOpen else { return }
        isOpen = false
        active.decrement()
    }

    func received(_ message: WebSocketMessage) {
        messagesReceived.increment()
        bytesReceived.increment(by: message.data.readableBytes)
    }

    func sent(_ message: WebSocketMessage) {
        messagesSent.increment()
        bytesSent.increment(by: message.data.readableBytes)
    }

    /// A close frame, `sent` by us or received; `nil` code: a close frame without one (1005).
    func close(_ code: WebSocketCloseCode?, sent: Bool) {
        let label = code.map { "\($0.rawValue)" } ?? "1005"
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
