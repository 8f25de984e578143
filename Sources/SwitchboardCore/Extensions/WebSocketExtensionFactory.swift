/// Negotiates one extension in the opening handshake and makes its per-connection instance.
///
/// Register factories on a server or a client; the core calls them with the
/// offers or the response for their ``token`` only.
public protocol WebSocketExtensionFactory: Sendable {
    /// The extension token this factory negotiates, e.g. `permessage-deflate`.
    var token: String { get }
    /// The reserved bits the extension will claim; two extensions claiming the same bit cannot both be accepted.
    var reservedBits: WireFrame.ReservedBits { get }
    /// Client: the offers to send, most preferred first.
    func clientOffers() -> [ExtensionOffer]

    /// Client: checks the server's answer against what may be answered and
    /// makes the extension; throws when a parameter is unknown, repeated or not
    /// one the offers allowed (the client then fails the connection).
    func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension

    /// Server: picks the first of the client's offers for this token that it can
    /// honour, in the client's order, and returns the response element and the
    /// extension; `nil` declines them all.
    func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)?

    /// Server, seeing the whole negotiation: what the client offered and what this
    /// connection accepted before this factory's turn (as Python `websockets` gives its
    /// extensions). The default calls ``serverAccept(_:)`` and adopts nothing; an
    /// extension that runs sessions inside the connection overrides it to take the
    /// extensions accepted before it as its sessions' own.
    func serverAccept(_ offers: [ExtensionOffer], negotiation: ExtensionNegotiationState) -> ExtensionAgreement?

    /// Client, seeing the whole negotiation: the server's response and what was accepted
    /// before this element. The default calls ``clientAccept(_:)`` and adopts nothing.
    func clientAccept(_ response: ExtensionOffer, negotiation: ExtensionNegotiationState) throws(ExtensionNegotiationError) -> ExtensionAgreement
}

extension WebSocketExtensionFactory {
    public var reservedBits: WireFrame.ReservedBits { [] }

    public func serverAccept(_ offers: [ExtensionOffer], negotiation: ExtensionNegotiationState) -> ExtensionAgreement? {
        serverAccept(offers).map { ExtensionAgreement(response: $0.response, extension: $0.extension) }
    }

    public func clientAccept(
        _ response: ExtensionOffer, negotiation: ExtensionNegotiationState
    ) throws(ExtensionNegotiationError) -> ExtensionAgreement {
        ExtensionAgreement(response: response, extension: try clientAccept(response))
    }
}
