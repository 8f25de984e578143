/// The rules of extension negotiation that hold for every extension (RFC 6455 §9.1, §5.2).
///
/// Elements are taken in order, each by the factory of its token with what was accepted
/// before it in view; the rules of one extension (such as which offers belong to the
/// sessions an extension carries) are that extension's own.
public enum ExtensionNegotiation {
    /// Server side: the accepted extensions and the response header value.
    ///
    /// | rule | source |
    /// |---|---|
    /// | offers are considered in the client's order (its preference) | §9.1 |
    /// | a token is answered at most once; later offers of it are alternatives | §9.1 |
    /// | an extension that would claim a reserved bit already claimed is declined | §5.2 |
    /// | unknown tokens are skipped | §9.1 |
    /// | an agreement that adopts the extensions before it starts the count afresh | ``ExtensionAgreement/adoptsPreceding`` |
    public static func serverNegotiate(offers: [ExtensionOffer], factories: [any WebSocketExtensionFactory]) -> ServerExtensionNegotiation {
        var accepted: [any WebSocketExtension] = []
        var responses: [ExtensionOffer] = []
        var claimed: WireFrame.ReservedBits = []
        var seen: Set<String> = []
        for (position, offer) in offers.enumerated() where !seen.contains(offer.token) {
            seen.insert(offer.token)
            let state = ExtensionNegotiationState(elements: offers, position: position, accepted: accepted, factories: factories)
            guard let factory = factories.first(where: { $0.token == offer.token }),
                factory.reservedBits.isDisjoint(with: claimed),
                let agreement = factory.serverAccept(offers[position...].filter { $0.token == offer.token }, negotiation: state)
            else { continue }
            if agreement.adoptsPreceding {
                accepted.removeAll()
                claimed = []
                seen = [offer.token]
            }
            claimed.formUnion(agreement.extension.reservedBits)
            accepted.append(agreement.extension)
            responses.append(agreement.response)
        }
        return ServerExtensionNegotiation(extensions: accepted, header: responses.isEmpty ? nil : ExtensionHeader.serialize(responses))
    }

    /// Client side: checks the server's response and makes the connection's extensions, in response order.
    ///
    /// Fails when the server names an extension the client did not offer, names one
    /// twice, or answers two that claim the same reserved bit (§9.1); an agreement that
    /// adopts the extensions before it starts those counts afresh.
    public static func clientAccept(
        response lines: [String], factories: [any WebSocketExtensionFactory]
    ) throws(ExtensionNegotiationError)
        -> [any WebSocketExtension]
    {
        let elements: [ExtensionOffer]
        do { elements = try ExtensionHeader.parse(lines) } catch { throw ExtensionNegotiationError(error.description) }
        var accepted: [any WebSocketExtension] = []
        var claimed: WireFrame.ReservedBits = []
        var seen: Set<String> = []
        for (position, element) in elements.enumerated() {
            guard let factory = factories.first(where: { $0.token == element.token }) else {
                throw ExtensionNegotiationError("server accepted extension \(element.token), which was not offered")
            }
            guard seen.insert(element.token).inserted else {
                throw ExtensionNegotiationError("server accepted extension \(element.token) twice")
            }
            let state = ExtensionNegotiationState(elements: elements, position: position, accepted: accepted, factories: factories)
            let agreement = try factory.clientAccept(element, negotiation: state)
            if agreement.adoptsPreceding {
                accepted.removeAll()
                claimed = []
                seen = [element.token]
            }
            guard agreement.extension.reservedBits.isDisjoint(with: claimed) else {
                throw ExtensionNegotiationError("extension \(element.token) claims a reserved bit another accepted extension claims")
            }
            claimed.formUnion(agreement.extension.reservedBits)
            accepted.append(agreement.extension)
        }
        return accepted
    }

    /// The offer header a client sends for `factories`, in their order, or `nil` when they offer nothing.
    public static func clientOfferHeader(_ factories: [any WebSocketExtensionFactory]) -> String? {
        let offers = factories.flatMap { $0.clientOffers() }
        return offers.isEmpty ? nil : ExtensionHeader.serialize(offers)
    }
}
