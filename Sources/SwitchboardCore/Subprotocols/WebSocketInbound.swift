import Logging
import NIOCore

/// The messages a peer sends, as an async sequence. Iterate it once.
///
/// It ends when the peer closes; if the connection drops or fails, iteration
/// throws. Not reading it stops reading from the network, which slows the
/// sender down (backpressure) instead of growing a queue.
public struct WebSocketInbound: AsyncSequence, Sendable {
    public typealias Element = WebSocketMessage
    public typealias Failure = any Error

    private let base: any AsyncSequence<WebSocketMessage, any Error> & Sendable

    /// Wraps a transport's sequence of messages.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == WebSocketMessage, Base.Failure == any Error {
        self.base = base
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<WebSocketMessage, any Error>
        /// Calls the base's `next()`, not `next(isolation: nil)`: the isolated variant hops to
        /// the generic executor on every call, and a task with an executor preference pays a
        /// status-record lock for each hop (about 4% of a server's CPU in a 16-byte ping-pong, `perf`).
        public mutating func next() async throws -> WebSocketMessage? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
}
