/// The limits of a multiplexed connection. Each has a default chosen for a
/// server with many clients; every one is also a defence against a peer.
public struct MuxConfiguration: Sendable, Hashable {
    /// Logical channels open at once on one physical connection, the implicit
    /// channel included. Default 64, as many as mod_pywebsocket grants: enough
    /// for an application's services side by side, few enough that one client
    /// cannot hold a server's memory hostage. A server grants `maxChannels - 1`
    /// slots and one more each time an added channel ends; a client that opens a
    /// channel with no slot gets DropChannel 2007 for it.
    public var maxChannels: Int
    /// The send quota this end grants the peer per channel, in bytes: how much
    /// the peer may send on a channel before this end has consumed it. Default
    /// 64 KiB: four ``maxFragmentSize`` pieces, which keeps a bulk transfer
    /// streaming over a loopback or LAN round trip while bounding what one
    /// channel whose reader stalls can hold (the peer stops, the other
    /// channels go on). A peer that overruns it gets DropChannel 3005.
    public var receiveWindow: Int
    /// The largest piece of a logical frame sent in one physical message.
    /// Default 16 KiB: a channel takes turns with the others at least this often,
    /// so a small message waits behind one piece per busy channel, not behind a
    /// whole large message.
    public var maxFragmentSize: Int
    /// Control frames (pongs, closes) a channel may have waiting for send quota
    /// the peer does not grant, in bytes. Default 4 KiB; past it the channel is
    /// dropped (3000) rather than queueing a ping flood's answers without bound.
    public var maxPendingControlBytes: Int
    /// The largest logical handshake (AddChannelRequest or Response) accepted.
    /// Default 16 KiB, the physical handshake's limit; a larger request is refused
    /// with status 431.
    public var maxHandshakeSize: Int
    /// Channel opens a server refuses on one physical connection (a handshake its
    /// routes reject, or a request without a slot) before it fails the connection
    /// with DropChannel 2000 and close 1008. Default 256: an application that retries a
    /// refused channel now and then stays far below it over a long connection, while
    /// one message, which can hold millions of requests of a few bytes each, gets
    /// at most this many answers (each a small HTTP response).
    public var maxRefusedChannels: Int

    public init(
        maxChannels: Int = 64, receiveWindow: Int = 64 * 1024, maxFragmentSize: Int = 16 * 1024,
        maxPendingControlBytes: Int = 4 * 1024, maxHandshakeSize: Int = 16 * 1024, maxRefusedChannels: Int = 256
    ) {
        self.maxChannels = max(1, maxChannels)
        self.receiveWindow = max(1, receiveWindow)
        self.maxFragmentSize = max(1, maxFragmentSize)
        self.maxPendingControlBytes = max(128, maxPendingControlBytes)
        self.maxHandshakeSize = max(256, maxHandshakeSize)
        self.maxRefusedChannels = max(0, maxRefusedChannels)
    }
}
