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
}

extension WebSocketExtensionFactory {
    public var reservedBits: WebSocketFrame.ReservedBits { [] }
}

/// Why an extension negotiation failed; on the client it fails the connection.
public struct ExtensionNegotiationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong, for the log and the handshake error.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The rules of extension negotiation that hold for every extension (RFC 6455 §9.1, §5.2).
public enum ExtensionNegotiation {
    /// Server side: the accepted extensions, in response order, and the response header value (`nil` for none).
    ///
    /// Offers are considered in the client's order (§9.1: the client lists them
    /// by preference). Each token is accepted at most once; an offer whose
    /// extension would claim a reserved bit already claimed is declined.
    public static func serverNegotiate(offers: [ExtensionOffer], factories: [any WebSocketExtensionFactory])
        -> (extensions: [any WebSocketExtension], header: String?) {
        var accepted: [(ExtensionOffer, any WebSocketExtension)] = []
        var claimed: WebSocketFrame.ReservedBits = []
        var seen: Set<String> = []
        for offer in offers where !seen.contains(offer.token) {
            seen.insert(offer.token)
            guard let factory = factories.first(where: { $0.token == offer.token }),
                  factory.reservedBits.isDisjoint(with: claimed),
                  let (response, ext) = factory.serverAccept(offers.filter { $0.token == offer.token })
            else { continue }
            claimed.formUnion(ext.reservedBits)
            accepted.append((response, ext))
        }
        guard !accepted.isEmpty else { return ([], nil) }
        return (accepted.map(\.1), ExtensionHeader.serialize(accepted.map(\.0)))
    }

    /// Client side: checks the server's response and makes the extensions, in response order.
    ///
    /// Fails when the server names an extension the client did not offer,
    /// names one twice, or answers two that claim the same reserved bit (§9.1).
    public static func clientAccept(response lines: [String], factories: [any WebSocketExtensionFactory]) throws(ExtensionNegotiationError)
        -> [any WebSocketExtension] {
        let elements: [ExtensionOffer]
        do { elements = try ExtensionHeader.parse(lines) } catch { throw ExtensionNegotiationError(error.description) }
        var result: [any WebSocketExtension] = []
        var claimed: WebSocketFrame.ReservedBits = []
        var seen: Set<String> = []
        for element in elements {
            guard let factory = factories.first(where: { $0.token == element.token }) else {
                throw ExtensionNegotiationError("server accepted extension \(element.token), which was not offered")
            }
            guard seen.insert(element.token).inserted else {
                throw ExtensionNegotiationError("server accepted extension \(element.token) twice")
            }
            let ext = try factory.clientAccept(element)
            guard ext.reservedBits.isDisjoint(with: claimed) else {
                throw ExtensionNegotiationError("extension \(element.token) claims a reserved bit another accepted extension claims")
            }
            claimed.formUnion(ext.reservedBits)
            result.append(ext)
        }
        return result
    }

    /// The offer header a client sends for `factories`, or `nil` when they offer nothing.
    public static func clientOfferHeader(_ factories: [any WebSocketExtensionFactory]) -> String? {
        let offers = factories.flatMap { $0.clientOffers() }
        return offers.isEmpty ? nil : ExtensionHeader.serialize(offers)
    }
}
