/// A factory's agreement to one element of a negotiation.
public struct ExtensionAgreement {
    /// Server: the response element to answer with. Client: the element accepted.
    public var response: ExtensionOffer
    public var `extension`: any WebSocketExtension
    /// The extension takes the extensions accepted before it as its own: they leave the
    /// connection's pipeline (an extension that carries sessions runs them in each session).
    /// Their response elements stay in the header, before this one's.
    public var adoptsPreceding: Bool

    public init(response: ExtensionOffer, extension: any WebSocketExtension, adoptsPreceding: Bool = false) {
        self.response = response
        self.extension = `extension`
        self.adoptsPreceding = adoptsPreceding
    }
}
