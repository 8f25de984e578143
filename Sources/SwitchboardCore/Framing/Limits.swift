/// Size limits applied to everything the peer sends.
///
/// Every limit bounds memory a peer can make us hold, so each has a finite default.
public struct WebSocketLimits: Sendable, Hashable {
    /// The largest frame payload accepted; a larger one closes with 1009.
    ///
    /// Default 1 MiB. A frame is buffered whole before it is passed on, so this is
    /// the memory one connection may hold for a frame in flight. Browsers send
    /// messages as single frames, so it is as large as ``maxMessageSize``.
    public var maxFrameSize: Int
    /// The largest message (after reassembly and after extensions such as
    /// permessage-deflate have decoded it); a larger one closes with 1009.
    ///
    /// Default 1 MiB, the default of Python `websockets`: large enough for JSON
    /// documents, small enough that 10,000 connections cannot be made to hold
    /// gigabytes.
    public var maxMessageSize: Int

    // The number of fragments is not limited: an empty fragment costs the peer
    // as much to send as it costs us to parse, and holds no memory.

    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 1 << 20) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
    }

    /// 1 MiB frames and messages.
    public static let `default` = WebSocketLimits()
}
