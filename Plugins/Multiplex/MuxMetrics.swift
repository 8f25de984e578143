import CoreMetrics
import SwitchboardCore

/// What multiplexing counts through swift-metrics (a no-op until the application bootstraps a
/// backend, which it does before serving): logical channels, the implicit one aside (it is
/// the physical connection, which the transport counts).
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `websocket.mux.channels.active` | meter (up and down) | `websocket.role` |
/// | `websocket.mux.channels` | counter (opened) | `websocket.role` |
/// | `websocket.mux.channels.refused` | counter (a server's refusals: slot, handshake) | `websocket.role` |
struct MuxMetrics: Sendable {
    private let active: Meter
    private let opened: Counter
    private let refusals: Counter

    static let server = MuxMetrics(role: "server")
    static let client = MuxMetrics(role: "client")

    static func of(_ role: WebSocketRole) -> MuxMetrics { role == .server ? server : client }

    private init(role: String) {
        let dimensions = [("websocket.role", role)]
        active = Meter(label: "websocket.mux.channels.active", dimensions: dimensions)
        opened = Counter(label: "websocket.mux.channels", dimensions: dimensions)
        refusals = Counter(label: "websocket.mux.channels.refused", dimensions: dimensions)
    }

    func channelOpened() {
        active.increment()
        opened.increment()
    }

    func channelClosed() { active.decrement() }

    func refused() { refusals.increment() }
}
