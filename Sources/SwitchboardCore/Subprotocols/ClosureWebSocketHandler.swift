import Logging
import NIOCore

/// A handler written as a closure.
public struct ClosureWebSocketHandler: WebSocketHandler {
    let body: @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void

    public init(_ body: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void) {
        self.body = body
    }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        try await body(inbound, outbound, context)
    }
}
