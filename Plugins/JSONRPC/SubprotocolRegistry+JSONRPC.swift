import SwitchboardCore

extension SubprotocolRegistry {
    /// A registry that serves `handler` to clients offering `token`, and to
    /// clients offering no subprotocol at all, as most JSON-RPC clients do.
    ///
    /// ```swift
    /// routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods)))
    /// ```
    public static func jsonRPC(_ handler: JSONRPCHandler, token: String = JSONRPCHandler.defaultToken) -> SubprotocolRegistry {
        var registry = SubprotocolRegistry(defaultHandler: handler)
        registry.register(token, handler)
        return registry
    }
}
