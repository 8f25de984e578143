/// Negotiates one extension in the opening handshake and makes its per-connection instance.
///
/// Register factories on a server or a client; the core calls them with the
/// offers or the response for their ``token`` only.
public protocol WebSocketExtensionFactory: Sendable {
    /// The extension token this factory negotiates, e.g. `permessage-deflate`.
    var token: String { get }
    /// The reserved bits the extension will claim; two extensions claiming the same bit cannot both be accepted.
    var reservedBits: WebSocketFrame.ReservedBits { get }
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
    public var reservedBits: WebSocketFrame.ReservedBits { [] }

    public func serverAccept(_ offers: [ExtensionOffer], negotiation: ExtensionNegotiationState) -> ExtensionAgreement? {
        serverAccept(offers).map { ExtensionAgreement(response: $0.response, extension: $0.extension) }
    }

    public func clientAccept(_ response: ExtensionOffer, negotiation: ExtensionNegotiationState) throws(ExtensionNegotiationError) -> ExtensionAgreement {
        ExtensionAgreement(response: response, extension: try clientAccept(response))
    }
}

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

/// Why an extension negotiation failed; on the client it fails the connection.
public struct ExtensionNegotiationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong, for the log and the handshake error.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a server agreed to in one handshake.
public struct ServerExtensionNegotiation {
    /// The connection's extensions, in response order (those an extension adopted are its own, not here).
    public var extensions: [any WebSocketExtension]
    /// The `Sec-WebSocket-Extensions` response value; `nil` for none.
    public var header: String?
}

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
        var claimed: WebSocketFrame.ReservedBits = []
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
    public static func clientAccept(response lines: [String], factories: [any WebSocketExtensionFactory]) throws(ExtensionNegotiationError)
        -> [any WebSocketExtension] {
        let elements: [ExtensionOffer]
        do { elements = try ExtensionHeader.parse(lines) } catch { throw ExtensionNegotiationError(error.description) }
        var accepted: [any WebSocketExtension] = []
        var claimed: WebSocketFrame.ReservedBits = []
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
