/// Negotiates one extension in the opening handshake and makes its per-connection instance.
///
/// Register factories on a server or a client; the core calls them with the
/// offers or the response for their ``token`` only.
public protocol WebSocketExtensionFactory: Sendable {
    /// The extension token this factory negotiates, e.g. `permessage-deflate`.
    var token: String { get }
    /// The reserved bits the extension will claim; two extensions claiming the same bit cannot both be accepted.
    var reservedBits: WebSocketFrame.ReservedBits { get }
    /// Whether the extension carries logical channels (multiplexing). Default `false`.
    ///
    /// Offers listed before such a token are for the logical channels, not for the
    /// physical connection (draft-ietf-hybi-websocket-multiplexing): the negotiation
    /// gives them to the implicit channel and leaves them out of the physical pipeline.
    var carriesLogicalChannels: Bool { get }

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
    public var carriesLogicalChannels: Bool { false }
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
    /// The physical connection's extensions, in response order.
    public var extensions: [any WebSocketExtension]
    /// When a multiplexing extension was accepted: the extensions of its implicit
    /// channel, negotiated from the offers listed before the multiplexing token.
    public var channelExtensions: [any WebSocketExtension]
    /// The `Sec-WebSocket-Extensions` response value; `nil` for none.
    public var header: String?
}

/// The rules of extension negotiation that hold for every extension (RFC 6455 §9.1, §5.2).
public enum ExtensionNegotiation {
    /// Server side: the accepted extensions and the response header value.
    ///
    /// Offers are considered in the client's order (§9.1: the client lists them
    /// by preference). Each token is accepted at most once; an offer whose
    /// extension would claim a reserved bit already claimed is declined. When a
    /// factory that carries logical channels accepts its offer, the offers listed
    /// before it are negotiated separately, for the implicit logical channel, and
    /// their answers precede the multiplexing token in the response.
    public static func serverNegotiate(offers: [ExtensionOffer], factories: [any WebSocketExtensionFactory]) -> ServerExtensionNegotiation {
        // One multiplexer at most: the first of the server's that the client offered.
        let plain = factories.filter { !$0.carriesLogicalChannels }
        for mux in factories where mux.carriesLogicalChannels {
            guard let muxIndex = offers.firstIndex(where: { $0.token == mux.token }) else { continue }
            let physical = acceptInOrder(Array(offers[muxIndex...]), factories: [mux] + plain)
            guard physical.contains(where: { $0.0.token == mux.token }) else { continue }
            let channel = acceptInOrder(Array(offers[..<muxIndex]), factories: plain)
            return ServerExtensionNegotiation(extensions: physical.map(\.1), channelExtensions: channel.map(\.1),
                                              header: ExtensionHeader.serialize(channel.map(\.0) + physical.map(\.0)))
        }
        let accepted = acceptInOrder(offers, factories: plain)
        return ServerExtensionNegotiation(extensions: accepted.map(\.1), channelExtensions: [],
                                          header: accepted.isEmpty ? nil : ExtensionHeader.serialize(accepted.map(\.0)))
    }

    private static func acceptInOrder(_ offers: [ExtensionOffer], factories: [any WebSocketExtensionFactory]) -> [(ExtensionOffer, any WebSocketExtension)] {
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
        return accepted
    }

    /// Client side: checks the server's response and makes the physical extensions, in response order.
    ///
    /// Fails when the server names an extension the client did not offer,
    /// names one twice, or answers two that claim the same reserved bit (§9.1).
    public static func clientAccept(response lines: [String], factories: [any WebSocketExtensionFactory]) throws(ExtensionNegotiationError)
        -> [any WebSocketExtension] {
        try clientNegotiate(response: lines, factories: factories).extensions
    }

    /// Client side, with multiplexing: the physical extensions and, when the
    /// response accepts an extension that carries logical channels, the
    /// extensions it lists before that token, which belong to the implicit channel.
    public static func clientNegotiate(response lines: [String], factories: [any WebSocketExtensionFactory]) throws(ExtensionNegotiationError)
        -> (extensions: [any WebSocketExtension], channelExtensions: [any WebSocketExtension]) {
        let elements: [ExtensionOffer]
        do { elements = try ExtensionHeader.parse(lines) } catch { throw ExtensionNegotiationError(error.description) }
        let muxIndex = elements.firstIndex { element in factories.contains { $0.carriesLogicalChannels && $0.token == element.token } }
        guard let muxIndex else { return (try accept(elements, factories: factories), []) }
        let channel = try accept(Array(elements[..<muxIndex]), factories: factories.filter { !$0.carriesLogicalChannels })
        return (try accept(Array(elements[muxIndex...]), factories: factories), channel)
    }

    private static func accept(_ elements: [ExtensionOffer], factories: [any WebSocketExtensionFactory]) throws(ExtensionNegotiationError)
        -> [any WebSocketExtension] {
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

    /// The offer header a client sends for `factories`, in their order, or `nil` when they offer nothing.
    ///
    /// Put the extensions meant for logical channels before a multiplexing factory.
    public static func clientOfferHeader(_ factories: [any WebSocketExtensionFactory]) -> String? {
        let offers = factories.flatMap { $0.clientOffers() }
        return offers.isEmpty ? nil : ExtensionHeader.serialize(offers)
    }
}
