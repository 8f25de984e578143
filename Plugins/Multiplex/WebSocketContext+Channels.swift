import SwitchboardCore

extension WebSocketContext {
    /// Whether this is a client connection that negotiated multiplexing, on which
    /// ``openChannel(path:subprotocols:headers:)`` opens channels.
    public var canOpenChannels: Bool { values[MuxChannelOpener.Key.self] != nil }

    /// Opens a logical channel to `path` on this multiplexed connection (clients only).
    ///
    /// The channel is a full WebSocket connection with its own handshake: the
    /// server picks its subprotocol from `subprotocols` with the route's registry,
    /// exactly as for a socket. Throws ``MultiplexError/channelRefused(_:)`` when
    /// the connection is not multiplexed, no channel slot is left, the server
    /// refuses the handshake, or it does not answer within the client's handshake
    /// timeout; throws `CancellationError` when the task is cancelled while waiting.
    /// A channel the server grants after that is closed at once.
    public func openChannel(path: String, subprotocols: [String] = [], headers: HandshakeHeaders = [:]) async throws -> WebSocketLogicalChannel {
        guard let opener = values[MuxChannelOpener.Key.self] else {
            throw MultiplexError.channelRefused("the connection did not negotiate multiplexing")
        }
        return try await opener.openChannel(path: path, subprotocols: subprotocols, headers: headers)
    }
}
