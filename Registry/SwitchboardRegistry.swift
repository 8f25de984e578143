import JSONRPC
import Multiplex
import PerMessageDeflate
import SOAP
import SwitchboardCore
import XMPP

/// The catalogue of built-in plug-ins that `switchboard serve` and `switchboard plugins` read.
///
/// Each plug-in module adds its descriptor here as it lands; the core knows none by name.
public enum SwitchboardRegistry {
    /// Every built-in plug-in, extensions first.
    public static let all: [PluginDescriptor] = [
        PluginDescriptor(
            token: PerMessageDeflate.token, kind: .extension, specification: "RFC 7692",
            defaults: "level 6, window 12 bits (asks the peer for 12), memory level 5, context takeover, threshold 64 B",
            makeExtension: { maxMessageSize in
                PerMessageDeflate(configuration: .init(maxDecompressedMessageSize: maxMessageSize))
            }),
        // Both revisions' tokens: a server prefers `mux` when a client offers both.
        multiplex(.draft11),
        multiplex(.draft06),
        PluginDescriptor(
            token: JSONRPCHandler.defaultToken, kind: .subprotocol, specification: "JSON-RPC 2.0",
            defaults: {
                let c = JSONRPCConfiguration()
                let size = c.maxMessageSize % (1 << 20) == 0 ? "\(c.maxMessageSize >> 20) MiB" : "\(c.maxMessageSize) B"
                return "also served without a subprotocol; \(c.maxConcurrentCalls) calls in flight per connection, "
                    + "call timeout \(c.callTimeout.components.seconds) s, messages up to \(size), batches of \(c.maxBatchLength), "
                    + "nesting depth \(c.maxNestingDepth)"
            }()),
        PluginDescriptor(
            token: SOAPHandler.token, kind: .subprotocol, specification: "[MS-SWSB]: SOAP 1.2 and 1.1, WS-Addressing 1.0, WSDL 1.1",
            defaults: {
                let c = SOAPConfiguration()
                return "SOAP \(c.version.rawValue) unless soap-content-type names 1.1; envelopes up to \(c.maxMessageSize >> 10) KiB, "
                    + "nesting depth \(c.maxNestingDepth), \(c.maxAttributesPerElement) attributes per element, "
                    + "\(c.maxNamespaceDeclarations) namespace declarations, no DTD or entities; \(c.maxConcurrentCalls) calls in flight per connection, "
                    + "call timeout \(c.callTimeout.components.seconds) s"
            }()),
        PluginDescriptor(
            token: XMPPServer.token, kind: .subprotocol, specification: "RFC 7395 (RFC 6120, RFC 6121, RFC 5802, XEP-0199), server and client",
            defaults: {
                let c = XMPPConfiguration()
                return "domain \(c.domain); SCRAM-SHA-256, SCRAM-SHA-1 (PLAIN to loopback only); stanzas up to \(c.maxStanzaSize >> 10) KiB, "
                    + "depth \(c.maxNestingDepth), \(c.maxStanzasPerSecond) stanzas/s, \(c.maxConnectionsPerAccount) connections per account; "
                    + "accounts from serve --xmpp-user"
            }(), route: "/xmpp"),
    ]

    private static func multiplex(_ revision: MuxRevision) -> PluginDescriptor {
        let c = MuxConfiguration()
        return PluginDescriptor(
            token: revision.token, kind: .extension,
            specification: revision == .draft11
                ? "draft-ietf-hybi-websocket-multiplexing-11 (in the -06 wire format)"
                : "draft-ietf-hybi-websocket-multiplexing-06 (as mod_pywebsocket 0.7.9)",
            defaults: "\(c.maxChannels) channels per connection, \(c.receiveWindow >> 10) KiB send quota per channel, "
                + "\(c.maxFragmentSize >> 10) KiB pieces shared round robin; every route reachable on a channel",
            makeExtension: { _ in Multiplex(revision: revision) })
    }

    public static var extensions: [PluginDescriptor] { all.filter { $0.kind == .extension } }
    public static var subprotocols: [PluginDescriptor] { all.filter { $0.kind == .subprotocol } }
}
