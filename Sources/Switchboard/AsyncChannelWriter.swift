import NIOCore
import SwitchboardCore

/// The handler's ``WebSocketOutbound``: sends go through the connection's
/// ``OutboundQueue``, which batches them for the event loop and suspends a
/// sender only while too many bytes are on their way (backpressure).
struct AsyncChannelWriter: WebSocketOutboundWriter {
    let queue: OutboundQueue

    func write(_ message: WebSocketMessage) async throws { try await queue.send(.message(message)) }
    func ping(_ payload: ByteBuffer) async throws { try await queue.send(.ping(payload)) }
    /// A close does not wait for room: it must get out even to a peer that does not read (the close timeout bounds it).
    func close(code: WebSocketCloseCode, reason: String) async throws { try queue.enqueue(.close(code, reason)) }
}
