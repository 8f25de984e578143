import SwitchboardCore

extension SubprotocolRegistry {
    /// A registry that serves `handler` to clients offering the `soap` token, and only to
    /// them: [MS-SWSB] §3.2 has every client offer it.
    ///
    /// ```swift
    /// routes.add("/soap", .soap(SOAPHandler(operations: operations)))
    /// ```
    public static func soap(_ handler: SOAPHandler) -> SubprotocolRegistry {
        var registry = SubprotocolRegistry(requiresSubprotocol: true)
        registry.register(SOAPHandler.token, handler)
        return registry
    }
}
