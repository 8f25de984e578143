/// A negotiated extension at work on one connection (RFC 6455 §9).
///
/// The engine hands every frame to every extension, control frames included,
/// in the order the server's `Sec-WebSocket-Extensions` response lists them for
/// outgoing frames and in the reverse order for incoming ones (§9.1). An
/// extension is not limited to one frame in, one frame out: it may hold frames
/// back (to work per message), pass on several, swallow frames addressed to
/// itself, and send frames of its own to the peer or to the application.
///
/// One instance serves one connection and is only called from the connection's
/// own context, one call at a time.
public protocol WebSocketExtension {
    /// The extension token, as in the response header.
    var name: String { get }
    /// The reserved bits this extension gives meaning to; the parser accepts
    /// them on incoming frames only because an extension claims them.
    var reservedBits: WireFrame.ReservedBits { get }

    /// Processes a frame received from the peer, on its way to the application.
    mutating func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError)

    /// Processes a frame the application sends, on its way to the peer.
    mutating func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError)

    /// The connection has been quiet for a while: free what can be rebuilt
    /// later without changing what the peer must expect (a compressor's history,
    /// say), keeping what a message in progress needs. Default: nothing.
    mutating func releaseIdleMemory()
}

extension WebSocketExtension {
    public var reservedBits: WireFrame.ReservedBits { [] }
    public mutating func releaseIdleMemory() {}
}
