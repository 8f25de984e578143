import JSONRPC
import SwitchboardCore

/// The demo services `switchboard serve` mounts beside `/echo`, each at its route and
/// under its subprotocol token (also served to clients that offer none).
public enum SwitchboardDemos {
    public struct Demo: Sendable {
        public let route: String
        public let token: String
        public let makeHandler: @Sendable () -> any WebSocketHandler
    }

    public static let all: [Demo] = [
        Demo(route: "/rpc", token: JSONRPCHandler.defaultToken, makeHandler: { JSONRPCDemo.handler() })
    ]
}
