import NIOCore
import SwitchboardCore

/// What a connection whose handshake negotiated a ``WebSocketSessionExtension`` needs to host it.
struct SessionPlan {
    var sessionExtension: any WebSocketSessionExtension
    /// How long a session's opening handshake may take (the connection's).
    var handshakeTimeout: TimeAmount
    /// Server: evaluates a session's opening handshake.
    var evaluate: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)?

    /// The plan for a connection whose negotiated `extensions` include one that carries
    /// sessions; `nil` otherwise. `evaluate` is only made then: a plain handshake pays nothing for it.
    static func make(
        extensions: [any WebSocketExtension], handshakeTimeout: TimeAmount,
        evaluate: @autoclosure () -> (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)?
    ) -> SessionPlan? {
        guard let carrying = extensions.lazy.compactMap({ $0 as? any WebSocketSessionExtension }).first else { return nil }
        return SessionPlan(sessionExtension: carrying, handshakeTimeout: handshakeTimeout, evaluate: evaluate())
    }
}
