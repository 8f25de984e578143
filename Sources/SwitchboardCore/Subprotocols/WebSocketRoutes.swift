/// Maps request paths to the subprotocol registries that serve them.
public struct WebSocketRoutes: Sendable {
    private var routes: [String: SubprotocolRegistry] = [:]

    public init() {}

    /// Serves `registry` at `path` (exact match, e.g. `/rpc`).
    public mutating func add(_ path: String, _ registry: SubprotocolRegistry) { routes[path] = registry }

    /// Serves a single handler at `path`, for clients that offer no subprotocol or none of these.
    public mutating func add(_ path: String, handler: any WebSocketHandler) {
        routes[path] = SubprotocolRegistry(defaultHandler: handler)
    }

    /// The registry for `path`, if any.
    public func registry(for path: String) -> SubprotocolRegistry? { routes[path] }

    /// Every route's path, sorted.
    public var paths: [String] { routes.keys.sorted() }
}
