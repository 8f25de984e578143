import NIOCore

/// A handler called on its connection's event loop, once per message, inside the read that
/// brought the message: the fast path for handlers that answer at once (an echo, a ticker
/// fan-in, a router that forwards).
///
/// An async ``WebSocketHandler`` runs in a task of its own, which the concurrency runtime
/// resumes for every message (or every read's batch): at small messages over many
/// connections that hop costs more than the protocol's own work. Here the transport calls
/// ``received(_:on:)`` directly while it parses; what it sends goes into the same write
/// and flush as the read's other answers, and reading waits, as for pongs, while the peer
/// does not take them. A connection that uses this path needs no task per message, and its
/// handler keeps no async frame while it waits.
///
/// The rules of running on an event loop apply: ``received(_:on:)`` must not block, sleep
/// or wait, and ``WebSocketLoopConnection`` is only valid during the call (it is not
/// `Sendable`). Work that must wait belongs in an async ``WebSocketHandler``.
///
/// When the peer closes, the transport answers its close at once; ``received(_:on:)`` is not
/// called again. Where no event loop calls the handler (on a multiplexed channel, or when
/// an application calls ``WebSocketHandler/handle(_:_:context:)`` itself), the default
/// `handle` makes the same calls from an async loop.
public protocol WebSocketLoopHandler: WebSocketHandler {
    /// Called on the connection's event loop with each message the peer sends.
    func received(_ message: WebSocketMessage, on connection: WebSocketLoopConnection)
}

extension WebSocketLoopHandler {
    /// The same calls from an async loop: each message's sends go out before the next
    /// message is read; a ``WebSocketLoopConnection/close(_:reason:)`` ends the loop.
    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        let sink = CollectingLoopSink(context: context)
        for try await message in inbound {
            received(message, on: WebSocketLoopConnection(sink))
            for action in sink.take() {
                switch action {
                case .send(let reply): try await outbound.send(reply)
                case .close(let code, let reason):
                    try await outbound.close(code, reason: reason)
                    return
                }
            }
        }
    }
}

/// What a ``WebSocketLoopHandler`` can do with its connection during ``WebSocketLoopHandler/received(_:on:)``.
public struct WebSocketLoopConnection {
    private let sink: any WebSocketLoopSink

    package init(_ sink: any WebSocketLoopSink) { self.sink = sink }

    /// The connection's request, subprotocol, extensions and values.
    public var context: WebSocketContext { sink.handlerContext }

    /// Sends `message`, after what was sent before it. Dropped once the connection is closing.
    public func send(_ message: WebSocketMessage) { sink.send(message) }

    /// Sends a text message.
    public func send(text: String) { sink.send(.text(text)) }

    /// Starts the close handshake; no message is delivered after it.
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String = "") { sink.close(code, reason: reason) }
}

/// Where a ``WebSocketLoopConnection``'s calls go: the transport's channel handler, or the
/// collecting sink of the async fallback.
package protocol WebSocketLoopSink: AnyObject {
    var handlerContext: WebSocketContext { get }
    func send(_ message: WebSocketMessage)
    func close(_ code: WebSocketCloseCode, reason: String)
}

/// The async fallback's sink: keeps what one call did, for the loop to perform in order.
private final class CollectingLoopSink: WebSocketLoopSink {
    enum Action {
        case send(WebSocketMessage)
        case close(WebSocketCloseCode, String)
    }

    let handlerContext: WebSocketContext
    private var actions: [Action] = []

    init(context: WebSocketContext) { self.handlerContext = context }

    func send(_ message: WebSocketMessage) { actions.append(.send(message)) }
    func close(_ code: WebSocketCloseCode, reason: String) { actions.append(.close(code, reason)) }

    func take() -> [Action] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }
}
