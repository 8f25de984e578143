import NIOCore
import SwitchboardCore

/// Timeouts and limits of an established connection, the same for servers and clients.
public struct WebSocketConnectionConfiguration: Sendable {
    /// Size limits for what the peer sends.
    public var limits: WebSocketLimits
    /// How often to ping the peer; `nil` turns heartbeats off.
    ///
    /// Default 20 s, as Python `websockets`: often enough to keep NAT and
    /// proxy mappings alive (many drop idle TCP after 30-60 s) and to notice a
    /// vanished peer within a minute, rare enough to cost nothing.
    public var pingInterval: TimeAmount?
    /// How long to wait for the pong before closing with 1011. Default 20 s.
    /// The wait starts again while reading is held back because the handler has
    /// not taken what came before: the pong may be sitting unread behind it, and
    /// the peer is plainly there.
    public var pingTimeout: TimeAmount
    /// Close with 1001 after this long without a data message either way; `nil` (the default) never does.
    /// Heartbeats already detect dead peers; this is for servers that want to shed quiet clients.
    public var idleTimeout: TimeAmount?
    /// How long to wait for the peer's close frame, or for the server to close TCP, before dropping the connection.
    /// Default 10 s, as Python `websockets`.
    public var closeTimeout: TimeAmount
    /// Outgoing messages larger than this are split into frames of this size; `nil` (the default) sends one frame each.
    public var maxOutgoingFrameSize: Int?
    /// After this long without a message either way, extensions free what they can
    /// rebuild (permessage-deflate drops its compressor: 32 KiB at its defaults);
    /// `nil` never does. Default 5 s: a connection quiet that long is usually idle
    /// for much longer (dashboards, chat), and rebuilding costs one allocation and
    /// one message compressed without history.
    public var releaseIdleMemoryAfter: TimeAmount?
    /// Inbound messages buffered for a handler that is not reading before the socket stops being read.
    /// Default 16: enough to batch per read, small enough that a stalled handler pushes back quickly.
    public var inboundBufferedMessages: Int
    /// Inbound payload bytes buffered for a handler that is not reading before the socket stops being read.
    /// Default 1 MiB, the default `WebSocketLimits.maxMessageSize`: with large messages the count
    /// alone would let 16 of them pile up (256 MiB at a 16 MiB limit, sent as a few kilobytes each
    /// with permessage-deflate). A message larger than this is still delivered, alone. Bytes the
    /// socket delivered past the stop wait undecoded, so what one slow handler holds is about this
    /// much, one message, and one read.
    public var inboundBufferedBytes: Int
    /// The most message bytes one connection decodes in one turn of its event loop before
    /// the loop serves its other connections. Default 1 MiB: a 64 KiB read of
    /// permessage-deflate messages can decode to gigabytes, and decoding a read whole held
    /// every other connection of the loop for as long (seconds, seen with 1 MiB messages of
    /// zeros). At least one message is decoded per turn, so no message is too large for it.
    public var decodedBytesPerTurn: Int
    /// Where the handler runs. Default ``WebSocketHandlerExecution/eventLoop``:
    /// no thread switch per message; a handler must not block (see ``WebSocketHandlerExecution``).
    public var handlerExecution: WebSocketHandlerExecution

    public init(
        limits: WebSocketLimits = .default, pingInterval: TimeAmount? = .seconds(20), pingTimeout: TimeAmount = .seconds(20),
        idleTimeout: TimeAmount? = nil, closeTimeout: TimeAmount = .seconds(10), maxOutgoingFrameSize: Int? = nil,
        inboundBufferedMessages: Int = 16, inboundBufferedBytes: Int = 1 << 20, decodedBytesPerTurn: Int = 1 << 20,
        releaseIdleMemoryAfter: TimeAmount? = .seconds(5),
        handlerExecution: WebSocketHandlerExecution = .eventLoop
    ) {
        self.limits = limits
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.idleTimeout = idleTimeout
        self.closeTimeout = closeTimeout
        self.maxOutgoingFrameSize = maxOutgoingFrameSize
        self.inboundBufferedMessages = inboundBufferedMessages
        self.inboundBufferedBytes = inboundBufferedBytes
        self.decodedBytesPerTurn = decodedBytesPerTurn
        self.releaseIdleMemoryAfter = releaseIdleMemoryAfter
        self.handlerExecution = handlerExecution
    }
}
