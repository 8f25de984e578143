import SwitchboardCore

/// Multiplexing (draft-ietf-hybi-websocket-multiplexing): many logical
/// WebSocket connections over one physical one.
///
/// Register it beside the other extensions; put the extensions meant for
/// every logical channel (permessage-deflate) *before* it on a client, which
/// is how the draft tells channel extensions from physical ones:
///
/// ```swift
/// // Server: accepts both tokens, every route is reachable on a channel.
/// let server = WebSocketServer(configuration: .init(routes: routes,
///     extensions: [PerMessageDeflate(), Multiplex(), Multiplex(revision: .draft06)]))
///
/// // Client: channels open on the established connection.
/// let config = WebSocketClientConfiguration(extensions: [PerMessageDeflate(), Multiplex()])
/// try await WebSocketConnector.connect(to: "ws://127.0.0.1:8080/echo", configuration: config) { inbound, outbound, context in
///     let rpc = try await context.openChannel(path: "/rpc", subprotocols: ["jsonrpc"])
///     try await rpc.outbound.send(text: #"{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}"#)
/// }
/// ```
///
/// Each channel is a full WebSocket connection: its own handshake (routed and
/// given a subprotocol by the server's registries, as a socket is), its own
/// extensions, its own close handshake. A handler cannot tell a channel from
/// a socket.
public struct Multiplex: WebSocketExtensionFactory {
    public let revision: MuxRevision
    public let configuration: MuxConfiguration

    /// - Parameters:
    ///   - revision: the draft revision, which picks the token: `mux` (11, the
    ///     default) or `mux_DO_NOT_USE` (06, what mod_pywebsocket 0.7.9 speaks).
    ///     Both use the same wire format here.
    ///   - configuration: channel count, flow-control window and limits.
    public init(revision: MuxRevision = .draft11, configuration: MuxConfiguration = .init()) {
        self.revision = revision
        self.configuration = configuration
    }

    public var token: String { revision.token }

    /// The `quota` parameter: the send quota the server starts with on the
    /// implicit channel, which is what this client can buffer there.
    public func clientOffers() -> [ExtensionOffer] {
        [ExtensionOffer(token, [.init("quota", String(configuration.receiveWindow))])]
    }

    public func clientAccept(_ response: ExtensionOffer) throws(ExtensionNegotiationError) -> any WebSocketExtension {
        try clientAccept(response, negotiation: ExtensionNegotiationState(elements: [response], position: 0, accepted: [], factories: [self]))
            .extension
    }

    /// The draft's rule for the other extensions: those the server's response lists
    /// before the multiplexing token belong to the logical channels (the implicit one
    /// gets them now), those after it to the physical connection. New channels offer
    /// every other extension the client has.
    public func clientAccept(
        _ response: ExtensionOffer, negotiation: ExtensionNegotiationState
    ) throws(ExtensionNegotiationError) -> ExtensionAgreement {
        guard response.parameters.isEmpty else {
            throw ExtensionNegotiationError("\(token) response with parameters \(response.parameters.map(\.name).joined(separator: ", "))")
        }
        let ext = MultiplexExtension(
            revision: revision, configuration: configuration, peerInitialQuota: 0,
            channelExtensions: negotiation.accepted,
            channelExtensionFactories: negotiation.factories.filter { !($0 is Multiplex) })
        return ExtensionAgreement(response: response, extension: ext, adoptsPreceding: true)
    }

    public func serverAccept(_ offers: [ExtensionOffer]) -> (response: ExtensionOffer, extension: any WebSocketExtension)? {
        serverAccept(offers, negotiation: ExtensionNegotiationState(elements: offers, position: 0, accepted: [], factories: [self]))
            .map { ($0.response, $0.extension) }
    }

    /// One multiplexer per connection, the server's first (in its order) that the client
    /// offered usably; the extensions accepted for the offers before it belong to the
    /// logical channels (the implicit one gets them now), those after it to the physical
    /// connection (the draft's rule, which is Multiplex's own, not the core's).
    public func serverAccept(_ offers: [ExtensionOffer], negotiation: ExtensionNegotiationState) -> ExtensionAgreement? {
        guard !negotiation.accepted.contains(where: { $0 is MultiplexExtension }) else { return nil }
        let preferred = negotiation.factories.lazy.compactMap { $0 as? Multiplex }.first { mux in
            negotiation.elements.contains { $0.token == mux.token && Self.quota(in: $0) != nil }
        }
        guard (preferred?.token ?? token) == token else { return nil }
        for offer in offers {
            guard let quota = Self.quota(in: offer) else { continue }
            let ext = MultiplexExtension(
                revision: revision, configuration: configuration, peerInitialQuota: quota,
                channelExtensions: negotiation.accepted, channelExtensionFactories: [])
            return ExtensionAgreement(response: ExtensionOffer(token), extension: ext, adoptsPreceding: true)
        }
        return nil
    }

    /// The offer's `quota` (0 when absent), or `nil` when the offer has another
    /// parameter, a repeated one, or a value that is not a number below 2^32.
    static func quota(in offer: ExtensionOffer) -> Int? {
        var quota: Int?
        for parameter in offer.parameters {
            guard parameter.name == "quota", quota == nil, let text = parameter.value,
                !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.utf8.count <= 10,
                let value = Int(text), value < 1 << 32
            else { return nil }
            quota = value
        }
        return quota ?? 0
    }
}
