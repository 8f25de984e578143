/// The subprotocols a route serves, by token, and how one is chosen (RFC 6455 §4.2.2 /subprotocol/).
///
/// The server answers exactly one of the tokens the client offered, or none.
public struct SubprotocolRegistry: Sendable {
    /// How the server picks among the client's offers.
    public enum Selection: Sendable {
        /// The first registered token the client offered, in registration order.
        case serverPreference
        /// The first offered token that is registered, in the client's order.
        case clientPreference
        /// A closure that picks one of the offered, registered tokens (or none).
        case custom(@Sendable (_ offered: [String], _ request: HandshakeRequest) -> String?)
    }

    /// The outcome of choosing for one request.
    public enum Choice: Sendable {
        case accept(subprotocol: String?, handler: any WebSocketHandler)
        case reject(reason: String)
    }

    private var handlers: [(token: String, handler: any WebSocketHandler)] = []
    public var selection: Selection
    /// When `true`, a client that offers no registered token gets HTTP 400.
    public var requiresSubprotocol: Bool
    /// The handler for a client that offers no registered token (many JSON-RPC clients offer none).
    public var defaultHandler: (any WebSocketHandler)?

    public init(selection: Selection = .serverPreference, requiresSubprotocol: Bool = false, defaultHandler: (any WebSocketHandler)? = nil) {
        self.selection = selection
        self.requiresSubprotocol = requiresSubprotocol
        self.defaultHandler = defaultHandler
    }

    /// Registers `handler` for `token`; a later registration of the same token replaces it.
    public mutating func register(_ token: String, _ handler: any WebSocketHandler) {
        handlers.removeAll { $0.token == token }
        handlers.append((token, handler))
    }

    /// Registers a closure for `token`.
    public mutating func register(
        _ token: String, _ body: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void
    ) {
        register(token, ClosureWebSocketHandler(body))
    }

    /// The registered tokens, in registration order.
    public var tokens: [String] { handlers.map(\.token) }

    /// Chooses the subprotocol and handler for a client's offer.
    public func choose(offered: [String], request: HandshakeRequest) -> Choice {
        let registered = Set(tokens)
        let token: String?
        switch selection {
        case .serverPreference: token = tokens.first { offered.contains($0) }
        case .clientPreference: token = offered.first { registered.contains($0) }
        case .custom(let pick): token = pick(offered, request).flatMap { offered.contains($0) && registered.contains($0) ? $0 : nil }
        }
        if let token, let handler = handlers.first(where: { $0.token == token })?.handler {
            return .accept(subprotocol: token, handler: handler)
        }
        if requiresSubprotocol {
            return .reject(
                reason: offered.isEmpty
                    ? "a subprotocol is required (one of \(tokens.joined(separator: ", ")))"
                    : "none of the offered subprotocols (\(offered.joined(separator: ", "))) is served here")
        }
        if let defaultHandler { return .accept(subprotocol: nil, handler: defaultHandler) }
        return .reject(reason: "no handler for a connection without subprotocol")
    }
}
