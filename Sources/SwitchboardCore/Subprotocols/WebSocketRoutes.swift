/// Maps request paths to the subprotocol registries that serve them.
///
/// A path is exact (`/rpc`) or has parameters, segments written `{name}` that match any one
/// non-empty segment (`/rooms/{id}`); the handler reads them from
/// ``WebSocketContext/pathParameters``. An exact path wins over a pattern; patterns are tried
/// in the order they were added.
///
/// A route may have an accept hook, run after the handshake's own checks and before the 101:
///
/// ```swift
/// routes.add("/rooms/{id}", registry) { upgrade in
///     guard let user = await sessions.user(for: upgrade.request.cookies["session"]) else {
///         return .reject(HandshakeRejection(status: 401, reason: "log in first", headers: ["WWW-Authenticate": "Bearer"]))
///     }
///     var values = WebSocketContextValues()
///     values[UserKey.self] = user
///     return .accept(values)
/// }
/// ```
public struct WebSocketRoutes: Sendable {
    private var exact: [String: WebSocketRoute] = [:]
    private var patterns: [WebSocketRoute] = []

    public init() {}

    /// Serves `registry` at `path`, after `accept` (if given) lets the upgrade through.
    public mutating func add(_ path: String, _ registry: SubprotocolRegistry, accept: WebSocketAcceptHook? = nil) {
        let route = WebSocketRoute(path: path, registry: registry, accept: accept)
        if route.isExact {
            exact[path] = route
        } else {
            patterns.removeAll { $0.path == path }
            patterns.append(route)
        }
    }

    /// Serves a single handler at `path`, for clients that offer no subprotocol or none of these.
    public mutating func add(_ path: String, handler: any WebSocketHandler, accept: WebSocketAcceptHook? = nil) {
        add(path, SubprotocolRegistry(defaultHandler: handler), accept: accept)
    }

    /// The route serving `path` and the parameters it took from it, if any route does.
    public func match(_ path: String) -> (route: WebSocketRoute, parameters: [String: String])? {
        if let route = exact[path] { return (route, [:]) }
        for route in patterns {
            if let parameters = route.parameters(in: path) { return (route, parameters) }
        }
        return nil
    }

    /// The registry for `path`, if any.
    public func registry(for path: String) -> SubprotocolRegistry? { match(path)?.route.registry }

    /// Every route's path (patterns as written), sorted.
    public var paths: [String] { (Array(exact.keys) + patterns.map(\.path)).sorted() }
}

/// One route: its path, its registry and its accept hook.
public struct WebSocketRoute: Sendable {
    /// The path as it was added (`/rooms/{id}`).
    public let path: String
    public let registry: SubprotocolRegistry
    public let accept: WebSocketAcceptHook?
    /// The path's segments; a parameter's is its name in braces.
    private let segments: [Substring]

    init(path: String, registry: SubprotocolRegistry, accept: WebSocketAcceptHook?) {
        self.path = path
        self.registry = registry
        self.accept = accept
        self.segments = path.split(separator: "/", omittingEmptySubsequences: false)
    }

    var isExact: Bool { !segments.contains(where: Self.isParameter) }

    private static func isParameter(_ segment: Substring) -> Bool { segment.count > 2 && segment.first == "{" && segment.last == "}" }

    /// The parameters `path` gives this route's pattern, or `nil` when it does not match.
    func parameters(in path: String) -> [String: String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            if Self.isParameter(segment) {
                guard !part.isEmpty else { return nil }
                parameters[String(segment.dropFirst().dropLast())] = percentDecode(part, plusAsSpace: false)
            } else if segment != part {
                return nil
            }
        }
        return parameters
    }
}
