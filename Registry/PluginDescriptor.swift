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
