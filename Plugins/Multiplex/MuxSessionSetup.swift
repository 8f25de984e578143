import Logging
import NIOCore
import SwitchboardCore

/// What a ``MuxSession`` learns of its physical connection (from the transport's
/// `WebSocketSessionHost`, or from a test).
struct MuxSessionSetup {
    var role: WebSocketRole
    /// The physical opening handshake: received (server) or sent (client). It is
    /// the implicit channel's request and the base of delta-encoded ones.
    var request: HandshakeRequest
    /// Size limits for what the peer sends on each logical channel.
    var limits: WebSocketLimits
    /// Server: evaluates a logical channel's opening handshake with the same routes,
    /// subprotocol registries, origin policy and extensions as a physical one.
    var acceptChannel: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)?
    var allocator = ByteBufferAllocator()
    var logger: Logger
}
