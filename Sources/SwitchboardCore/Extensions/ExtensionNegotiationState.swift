/// What a factory sees of a negotiation in progress (``WebSocketExtensionFactory/serverAccept(_:negotiation:)``).
public struct ExtensionNegotiationState {
    /// The client's offers (server side) or the server's response elements (client side), in order.
    public var elements: [ExtensionOffer]
    /// The position in `elements` of the element being negotiated.
    public var position: Int
    /// The extensions this connection accepted so far, in order: those of the elements before `position`.
    public var accepted: [any WebSocketExtension]
    /// Every factory of this endpoint, in its order of preference.
    public var factories: [any WebSocketExtensionFactory]

    public init(elements: [ExtensionOffer], position: Int, accepted: [any WebSocketExtension], factories: [any WebSocketExtensionFactory]) {
        self.elements = elements
        self.position = position
        self.accepted = accepted
        self.factories = factories
    }
}
