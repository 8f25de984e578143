import SwitchboardCore

/// What a ``MuxSession`` calls: ``MuxCarrier`` on a real connection, a recorder in
/// tests and the fuzzer. Called on the event loop only.
protocol MuxSessionHost: AnyObject {
    /// Queues a data message on the physical connection.
    func sendPhysical(_ message: WebSocketMessage)
    /// Whether the physical connection takes more bytes now; when it does not,
    /// the session waits for ``MuxSession/physicalWritabilityChanged()``.
    var isPhysicalWritable: Bool { get }
    /// Server: the peer opened a channel; run `handler` on it.
    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler)
    /// A message for a channel's application. Returns `false` when the
    /// application has enough buffered: the session then grants the peer no
    /// more quota until ``MuxSession/readMore(_:)``.
    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool
    /// The channel's inbound messages have ended: the peer closed it (with this
    /// frame), dropped it, or broke its protocol (`failed`).
    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool)
    /// The channel is gone: what its application still sends fails.
    func channelClosed(_ channel: LogicalChannelID)
    /// The session found the physical connection broken: close it with `code`
    /// after what is queued, without waiting for an answer.
    func failPhysical(code: WebSocketCloseCode, reason: String)
}
