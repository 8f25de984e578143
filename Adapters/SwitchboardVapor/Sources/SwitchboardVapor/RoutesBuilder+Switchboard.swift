import HTTPTypes
import NIOCore
import NIOHTTP1
import Switchboard
import SwitchboardCore
import Vapor

extension RoutesBuilder {
    /// Adds a `GET` route of the app's router for every route of `server`, each answering a
    /// WebSocket upgrade with Switchboard's connection.
    ///
    /// ```swift
    /// var routes = WebSocketRoutes()
    /// routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods)))
    /// app.grouped(UserAuthenticator()).switchboard(HostedWebSocketServer(routes: routes))
    /// ```
    ///
    /// The request is judged as ``WebSocketServer`` judges it: the same registries, extension
    /// negotiation, origin policy, limits and accept hooks. The app's middleware has run first,
    /// and the Vapor `Request` (its `auth`, `storage`, `parameters`) reaches the accept hook
    /// and then the handler as `context.values[VaporRequest.self]`.
    ///
    /// Paths are whole request paths, `{name}` segments become Vapor parameters: add the routes
    /// on a builder without a path prefix (a group of middleware is fine). A request on one of
    /// the paths that does not ask for a WebSocket gets 426 Upgrade Required.
    public func switchboard(_ server: HostedWebSocketServer) {
        for path in server.routes.paths {
            on(.GET, Self.pathComponents(path), body: .stream) { request in
                await request.switchboardResponse(server)
            }
        }
    }

    /// `/rooms/{id}` as Vapor writes it: `rooms`, `:id`.
    static func pathComponents(_ path: String) -> [PathComponent] {
        path.split(separator: "/").map { segment in
            if segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2 {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .constant(String(segment))
        }
    }
}

/// The key under which an accept hook and a handler find the Vapor request that asked for the
/// upgrade: `context.values[VaporRequest.self]`.
public enum VaporRequest: WebSocketContextKey {
    public typealias Value = Request
}

extension Request {
    /// Switchboard's answer to this request: a 101 that hands the connection over, or the
    /// refusal Switchboard chose.
    func switchboardResponse(_ server: HostedWebSocketServer) async -> Response {
        var values = WebSocketContextValues()
        values[VaporRequest.self] = self
        let isSecure = application.http.server.configuration.tlsConfiguration != nil
        switch await server.evaluate(httpRequest, remoteAddress: remoteAddress, isSecure: isSecure, values: values) {
        case .upgrade(let upgrade):
            let response = Response(status: .switchingProtocols)
            response.upgrader = SwitchboardVaporUpgrader(server: server, upgrade: upgrade)
            return response
        case .reject(let refusal, let body):
            var headers = HTTPHeaders()
            // Vapor decides whether the connection stays open (HTTP/1.1 keep-alive, as for any
            // answer): nothing was upgraded, so the client may send another request on it.
            for field in refusal.headerFields { headers.add(name: field.name.rawName, value: field.value) }
            return Response(
                status: HTTPResponseStatus(statusCode: refusal.status.code, reasonPhrase: refusal.status.reasonPhrase), headers: headers,
                body: .init(string: body))
        case .notWebSocket:
            let headers: HTTPHeaders = ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"]
            return Response(status: .upgradeRequired, headers: headers, body: .init(string: "a WebSocket upgrade, please\n"))
        }
    }

    /// The request as swift-http-types has it (the `Host` header stays a header field).
    var httpRequest: HTTPTypes.HTTPRequest {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return HTTPTypes.HTTPRequest(
            method: HTTPTypes.HTTPRequest.Method(method.rawValue) ?? .get, scheme: nil, authority: nil, path: url.string,
            headerFields: fields)
    }
}
