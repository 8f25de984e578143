import SwitchboardCore

/// A logical channel's number on a multiplexed connection, as the session hands it
/// around: 1 is the implicit channel, which serves the physical handshake's own
/// request; a client opens the others.
typealias LogicalChannelID = UInt32

/// A logical channel both ends agreed on.
struct OpenedLogicalChannel: Sendable {
    var id: LogicalChannelID
    /// The channel's own handshake request.
    var request: HandshakeRequest
    var subprotocol: String?
    /// The channel's extensions, in pipeline order.
    var extensions: [String]
}
