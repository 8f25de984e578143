import NIOCore

/// When a connection may read its socket and decode what it read: the conditions that hold
/// reads back, as one value with no channel in it, so the rules are tested on their own
/// (`ReadGateTests`). ``WebSocketChannelHandler`` asks it before every read and every decode.
///
/// | condition | holds back | why |
/// |---|---|---|
/// | the reader is behind | decoding and reading, until it catches up | a reader that does not read must slow its peer, not grow a buffer |
/// | a close is under way | nothing the reader holds back | the peer's close must be seen, whatever the reader does |
/// | a read's answers wait for the socket to take writes | reading | every ping asks for a pong: a peer that pings without reading would grow the pending writes without bound |
/// | bytes read wait to be decoded | reading | they go first, and reading on would only grow them |
struct ReadGate {
    /// The application's reader has not kept up: decoding and reading wait until it asks for more.
    private(set) var readerBehind = false
    /// A read the pipeline asked for while reads were held back, issued once they are not.
    private(set) var readPending = false
    /// Answers a read made (pongs, a session's replies) wait for the socket to take writes.
    private(set) var answersWaitForRoom = false
    /// A close is under way: read and decode regardless of the reader, to see the peer's answer.
    private(set) var closing = false
    /// Bytes read and not yet decoded: the reader was behind, or a turn's decoding budget was spent.
    var unparsed: ByteBuffer?

    /// Whether to decode more of what was read.
    var mayDecode: Bool { !readerBehind || closing }

    /// Whether to read the socket now.
    var mayRead: Bool { mayDecode && !answersWaitForRoom && unparsed == nil }

    /// The pipeline asks for a read: `true` when it may go out now, otherwise it is kept for later.
    mutating func requestRead() -> Bool {
        if mayRead { return true }
        readPending = true
        return false
    }

    /// After a change that may allow reading: `true` when the read kept for later should go out now.
    mutating func takePendingRead() -> Bool {
        guard readPending, mayRead else { return false }
        readPending = false
        return true
    }

    /// The reader's buffer is full.
    mutating func readerFellBehind() { readerBehind = true }

    /// The reader took its buffer below the low watermarks.
    mutating func readerCaughtUp() { readerBehind = false }

    /// A read wrote answers; `socketWritable` is whether the socket still takes writes.
    mutating func answersWritten(socketWritable: Bool) {
        if !socketWritable { answersWaitForRoom = true }
    }

    /// The socket's writability changed.
    mutating func socketWritabilityChanged(_ writable: Bool) {
        if writable { answersWaitForRoom = false }
    }

    /// A close started (ours or the peer's): from now on reads and decoding ignore the reader.
    mutating func closeStarted() { closing = true }

    /// Whether a pong may be sitting unread behind the peer's messages: reads are held for a
    /// reader that is behind, not because the peer itself does not read. The heartbeat then
    /// waits longer instead of closing a live peer.
    var pongMayWaitUnread: Bool { (readPending || unparsed != nil) && readerBehind && !answersWaitForRoom }
}
