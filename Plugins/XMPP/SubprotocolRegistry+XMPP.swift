import SwitchboardCore

extension SubprotocolRegistry {
    /// A registry that serves `server` to clients offering `xmpp`, and only to them (RFC 7395 §3.1).
    public static func xmpp(_ server: XMPPServer) -> SubprotocolRegistry {
        var registry = SubprotocolRegistry(requiresSubprotocol: true)
        registry.register(XMPPServer.token, server)
        return registry
    }
}
