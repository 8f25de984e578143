import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore

/// Messages on their way from the event loop to the one task that reads them,
/// with backpressure counted in messages and in bytes.
///
/// The event loop ``yield(_:)``s each message and stops reading from the socket
/// once ``yield(_:)`` says the buffer is full (``highWatermark`` messages, or
/// ``byteHighWatermark`` bytes). The reader takes them with ``next()``; when it
/// has brought the buffer below both low watermarks after a stop, the demand
/// callback asks the event loop to read again. A reader that finds a message
/// waiting does not suspend.
///
/// Counting bytes as well as messages matters for large messages: 16 messages
/// of 16 MiB each would be 256 MiB held for one reader that does not read, and
/// with permessage-deflate a peer sends each of them as a few kilobytes.
///
/// This replaces NIOAsyncChannel's inbound stream. That one is generic over its
/// element and its back-pressure strategy, and called through
/// ``WebSocketInbound``'s existential its code ran unspecialized: generic metadata
/// looked up at run time on every message, about 6% of the server's CPU in a
/// 16-byte ping-pong echo (`perf`, Benchmarks/NIOEcho/README.md). It also put two
/// more handlers and their state machines in every connection's pipeline. This
/// type is concrete and one allocation: its state behind a lock.
struct InboundBuffer: AsyncSequence, Sendable {
    typealias Element = WebSocketMessage
    typealias Failure = any Error

    private struct State {
        /// Starts at the smallest size: most reads find the reader waiting, so an idle
        /// connection keeps no room for messages it does not hold (the default 16 was 640 bytes).
        var messages = CircularBuffer<WebSocketMessage>(initialCapacity: 1)
        /// The payload bytes of `messages`.
        var bytes = 0
        var reader: UnsafeContinuation<WebSocketMessage?, any Error>?
        /// Set once no more messages come: `nil` inside for a clean end, or the error ``next()`` throws.
        var end: (any Error)??
        /// The event loop was told to stop reading and waits for `demand`.
        var stopped = false
        /// Asks the event loop to read again; dropped at the end, which breaks the cycle through the producer.
        var demand: (@Sendable () -> Void)?
    }

    /// Buffered messages at which the event loop stops reading.
    let highWatermark: Int
    /// Buffered messages below which a stopped event loop reads again.
    let lowWatermark: Int
    /// Buffered payload bytes at which the event loop stops reading.
    let byteHighWatermark: Int
    /// Buffered payload bytes below which a stopped event loop reads again.
    let byteLowWatermark: Int
    private let state: NIOLockedValueBox<State>

    /// A buffer that stops its producer at `bufferedMessages` messages (at least 1) or
    /// `bufferedBytes` bytes, and restarts it below a quarter of both. A message larger
    /// than `bufferedBytes` is still taken, alone: the reader must be able to get it.
    init(bufferedMessages: Int, bufferedBytes: Int = .max) {
        highWatermark = Swift.max(1, bufferedMessages)
        lowWatermark = Swift.max(1, highWatermark / 4)
        byteHighWatermark = Swift.max(1, bufferedBytes)
        byteLowWatermark = Swift.max(1, byteHighWatermark / 4)
        state = NIOLockedValueBox(State())
    }

    // MARK: The event loop

    /// Sets what asks the producer to read again after ``yield(_:)`` returned `false`.
    func onDemand(_ demand: @escaping @Sendable () -> Void) {
        state.withLockedValue { state in
            if state.end == nil { state.demand = demand }
        }
    }

    /// Hands `message` to the reader; returns whether the producer may go on (`false`: stop
    /// reading until the demand callback runs). A message after ``finish(throwing:)`` is dropped.
    @discardableResult
    func yield(_ message: WebSocketMessage) -> Bool {
        let (reader, mayGoOn) = state.withLockedValue { state -> (UnsafeContinuation<WebSocketMessage?, any Error>?, Bool) in
            guard state.end == nil else { return (nil, true) }
            if let reader = state.reader {
                state.reader = nil
                return (reader, true)
            }
            state.messages.append(message)
            state.bytes += message.data.readableBytes
            // Sticky: only the reader, taking the buffer below the low watermarks, restarts the producer.
            if state.messages.count >= highWatermark || state.bytes >= byteHighWatermark { state.stopped = true }
            return (nil, !state.stopped)
        }
        reader?.resume(returning: message)
        return mayGoOn
    }

    /// Bytes a buffered message is counted for at least, in ``yieldWhileClosing(_:)``: what a
    /// message costs to hold beyond its payload (its buffer and its slot).
    static let messageOverhead = 64

    /// While a close is under way and reads go on regardless of the reader (to see the peer's
    /// close): takes `message` anyway while the buffer holds less than twice
    /// ``byteHighWatermark`` (each message counted at ``messageOverhead`` bytes or more), so
    /// that a reader that is slow, not stuck, gets everything the peer sent before it saw our
    /// close. Returns `false`, dropping it, past that: a peer that ignores our close and keeps
    /// sending cannot grow the buffer further (and the close timeout ends it).
    func yieldWhileClosing(_ message: WebSocketMessage) -> Bool {
        let limit = byteHighWatermark > Int.max / 2 ? Int.max : 2 * byteHighWatermark
        let fits = state.withLockedValue { state in
            state.bytes + (state.messages.count + 1) * Self.messageOverhead + message.data.readableBytes <= limit
        }
        guard fits else { return false }
        yield(message)
        return true
    }

    /// No more messages: the reader gets those still buffered, then `nil` (or `error`). Idempotent.
    func finish(throwing error: (any Error)? = nil) {
        let reader = state.withLockedValue { state -> UnsafeContinuation<WebSocketMessage?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = .some(error)
            state.demand = nil
            defer { state.reader = nil }
            return state.reader
        }
        guard let reader else { return }
        if let error { reader.resume(throwing: error) } else { reader.resume(returning: nil) }
    }

    // MARK: The reader

    private enum Taken {
        case message(WebSocketMessage, demand: (@Sendable () -> Void)?)
        case end((any Error)?)
        case cancelled
    }

    /// Takes the first buffered message, or the end; `nil` when the reader must wait.
    private static func take(_ state: inout State, lowWatermark: Int, byteLowWatermark: Int) -> Taken? {
        if let message = state.messages.popFirst() {
            state.bytes -= message.data.readableBytes
            guard state.stopped, state.messages.count < lowWatermark, state.bytes < byteLowWatermark else {
                return .message(message, demand: nil)
            }
            state.stopped = false
            return .message(message, demand: state.demand)
        }
        if let end = state.end { return .end(end) }
        return nil
    }

    /// The next message, `nil` after a clean end. Throws the end's error, or
    /// `CancellationError` if the reading task is cancelled while it waits.
    func next() async throws -> WebSocketMessage? {
        let (low, byteLow) = (lowWatermark, byteLowWatermark)
        let taken = state.withLockedValue { Self.take(&$0, lowWatermark: low, byteLowWatermark: byteLow) }
        if let taken { return try Self.deliver(taken) }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<WebSocketMessage?, any Error>) in
                let taken = state.withLockedValue { state -> Taken? in
                    if let taken = Self.take(&state, lowWatermark: low, byteLowWatermark: byteLow) { return taken }
                    if Task.isCancelled { return .cancelled }
                    precondition(state.reader == nil, "two tasks read one connection's messages at once")
                    state.reader = continuation
                    return nil
                }
                guard let taken else { return }
                continuation.resume(with: Result { try Self.deliver(taken) })
            }
        } onCancel: {
            state.withLockedValue { state in
                defer { state.reader = nil }
                return state.reader
            }?.resume(throwing: CancellationError())
        }
    }

    /// The messages buffered and their payload bytes (for tests and diagnostics).
    var buffered: (messages: Int, bytes: Int) { state.withLockedValue { ($0.messages.count, $0.bytes) } }

    /// Whether a reader is suspended in ``next()`` (for tests and diagnostics).
    var readerWaits: Bool { state.withLockedValue { $0.reader != nil } }

    private static func deliver(_ taken: Taken) throws -> WebSocketMessage? {
        switch taken {
        case .message(let message, let demand):
            demand?()
            return message
        case .end(let error):
            if let error { throw error }
            return nil
        case .cancelled:
            throw CancellationError()
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: InboundBuffer
        mutating func next() async throws -> WebSocketMessage? { try await buffer.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(buffer: self) }
}
