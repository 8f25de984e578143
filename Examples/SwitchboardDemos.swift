import JSONRPC
import SOAP
import SwitchboardCore

/// The demo services `switchboard serve` mounts beside `/echo`, each at its route and
/// under its subprotocol token (also served to clients that offer none).
public enum SwitchboardDemos {
    public struct Demo: Sendable {
        public let route: String
        public let token: String
        public let makeHandler: @Sendable () -> any WebSocketHandler
        /// A plain-HTTP page the demo serves at its route (a WSDL), given the request and the
        /// WebSocket URL of the route as the client reached it.
        public let page: (@Sendable (_ request: HandshakeRequest, _ routeURL: String) -> Page?)?
    }

    /// A plain-HTTP answer.
    public struct Page: Sendable {
        public let contentType: String
        public let body: String
    }

    public static let all: [Demo] = [
        Demo(route: "/rpc", token: JSONRPCHandler.defaultToken, makeHandler: { JSONRPCDemo.handler() }, page: nil),
        Demo(
            route: "/soap", token: SOAPHandler.token, makeHandler: { SOAPCalculatorDemo.handler() },
            page: { request, routeURL in
                // `?wsdl`, as every SOAP stack asks for it (also `?WSDL`).
                guard request.query?.lowercased() == "wsdl" else { return nil }
                return Page(contentType: "text/xml; charset=utf-8", body: SOAPCalculatorDemo.wsdl(location: routeURL))
            }),
    ]
}
