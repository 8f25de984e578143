import NIOCore
import SwitchboardCore

/// What the async side asks of the channel handler.
enum WebSocketOutboundCommand: Sendable {
    case message(WebSocketMessage)
    case ping(ByteBuffer)
    case close(WebSocketCloseCode, String)
    /// The handler has returned: close, and drop whatever messages still arrive.
    case finish(WebSocketCloseCode, String)
}
