import SwitchboardCore

/// Where a ``SessionHost`` writes: the connection's ``WebSocketChannelHandler``.
/// Called on the event loop only.
protocol ConnectionSink: AnyObject {
    /// Queues a data message on the connection; it goes out with the next flush.
    func sendMessage(_ message: WebSocketMessage)
    /// Whether the socket takes more bytes now.
    var isWritable: Bool { get }
    /// Flushes what was queued outside a read (a read's writes are flushed at its end).
    func flushPending()
    /// Closes with `code` now, after what is queued, without waiting for an answer.
    func failConnection(code: WebSocketCloseCode, reason: String)
}
