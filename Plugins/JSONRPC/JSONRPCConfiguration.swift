/// Limits and timeouts of one JSON-RPC connection, the same on both ends.
public struct JSONRPCConfiguration: Sendable {
    /// How many calls from the peer to methods that await run at once on this connection.
    /// Default 64.
    ///
    /// Such calls run concurrently, each in a task of its own, and are answered as they
    /// finish (a method that does not await runs in the reading task and is not counted,
    /// see ``JSONRPCMethods``). Past this bound, as many calls again wait in line; past that,
    /// the connection stops reading, which slows the peer down (backpressure)
    /// instead of dropping calls or growing a queue. 64 keeps a fast call from
    /// waiting behind a few slow ones, and bounds the tasks one peer can start.
    /// While the connection pushes back nothing more is read from it, not even
    /// a close frame: calls still running are cancelled once reading resumes
    /// and reaches the close (or a write fails).
    public var maxConcurrentCalls: Int

    /// How many tasks started with ``JSONRPCPeer/startTask(_:)`` run at once on this
    /// connection; past it `startTask` throws `-32000`, which answers the call that tried. Default 64,
    /// as ``maxConcurrentCalls``: a call returns at once after starting its task, so without this
    /// bound a peer could start unbounded work (100,000 `subscribe` calls held 434 MiB in the demo).
    public var maxBackgroundTasks: Int

    /// How long ``JSONRPCPeer/call(_:_:as:timeout:)`` waits for an answer unless told otherwise. Default 30 s:
    /// far beyond any healthy call, short enough that a lost answer does not hold
    /// a caller (and its memory) for the life of the connection.
    public var callTimeout: Duration

    /// The largest message parsed, in bytes; a larger one is answered `-32600`. Default 1 MiB,
    /// the transport's own default, so that a server which raises the WebSocket limit
    /// for other routes does not raise the JSON parsing work per message with it.
    public var maxMessageSize: Int

    /// The most requests in one batch; a longer batch is answered with one `-32600`.
    /// Default 1000, as go-ethereum: room for any real batch, while one message
    /// cannot fan out into unbounded work.
    public var maxBatchLength: Int

    /// How deeply arrays and objects may nest; deeper is `-32700`. Default 64:
    /// real parameters nest a handful of levels, and the bound keeps the
    /// recursive parser's stack use small whatever a peer sends.
    public var maxNestingDepth: Int

    public init(
        maxConcurrentCalls: Int = 64, callTimeout: Duration = .seconds(30), maxMessageSize: Int = 1 << 20,
        maxBatchLength: Int = 1000, maxNestingDepth: Int = 64, maxBackgroundTasks: Int = 64
    ) {
        precondition(
            maxConcurrentCalls > 0 && maxBackgroundTasks > 0 && maxBatchLength > 0 && maxNestingDepth > 0 && maxMessageSize > 0,
            "JSONRPCConfiguration limits must be positive")
        self.maxConcurrentCalls = maxConcurrentCalls
        self.callTimeout = callTimeout
        self.maxMessageSize = maxMessageSize
        self.maxBatchLength = maxBatchLength
        self.maxNestingDepth = maxNestingDepth
        self.maxBackgroundTasks = maxBackgroundTasks
    }
}
