import NIOCore
import SwitchboardCore

/// The channel's inbound messages as a sequence of one concrete type, for ``WebSocketInbound``.
///
/// ``WebSocketInbound`` holds its base as an existential, so whatever it wraps is
/// called through a witness table. Handed `NIOAsyncChannelInboundStream` itself,
/// that witness is NIOCore's unspecialized generic code, which looks up generic
/// type metadata at run time on every `next()`: about 20% of the server's CPU
/// in a pipelined 128-byte echo (`perf`, Benchmarks/NIOEcho/README.md). This
/// wrapper is not generic, so the compiler specializes NIO's inlinable iterator
/// for `WebSocketMessage` here, and the existential call lands in specialized code.
struct InboundMessages: AsyncSequence, Sendable {
    typealias Element = WebSocketMessage
    typealias Failure = any Error

    let stream: NIOAsyncChannelInboundStream<WebSocketMessage>

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: NIOAsyncChannelInboundStream<WebSocketMessage>.AsyncIterator
        mutating func next() async throws -> WebSocketMessage? { try await base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
}
