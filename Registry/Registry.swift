import JSONRPC
import Multiplex
import PerMessageDeflate
import SwitchboardCore

/// One built-in plug-in: what it is, where it is specified, its defaults, and how to make it.
public struct PluginDescriptor: Sendable {
    public enum Kind: String, Sendable {
        case `extension`
        case subprotocol
    }

    /// The token negotiated in the handshake (`permessage-deflate`, `jsonrpc`, ...).
    public let token: String
    public let kind: Kind
    /// The specification it implements, e.g. `RFC 7692`.
    public let specification: String
    /// Its default settings, in one line.
    public let defaults: String
    /// Where `switchboard serve` mounts a subprotocol.
    public let route: String?
    /// Makes the extension factory (extensions only), given the largest message the endpoint accepts.
    public let makeExtension: (@Sendable (_ maxMessageSize: Int) -> any WebSocketExtensionFactory)?
    /// Makes the handler (subprotocols only).
    public let makeHandler: (@Sendable () -> any WebSocketHandler)?

    public init(
        token: String, kind: Kind, specification: String, defaults: String, route: String? = nil,
        makeExtension: (@Sendable (_ maxMessageSize: Int) -> any WebSocketExtensionFactory)? = nil,
        makeHandler: (@Sendable () -> any WebSocketHandler)? = nil
    ) {
        self.token = token
        self.kind = kind
        self.specification = specification
        self.defaults = defaults
        self.route = route
        self.makeExtension = makeExtension
        self.makeHandler = makeHandler
    }
}

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
