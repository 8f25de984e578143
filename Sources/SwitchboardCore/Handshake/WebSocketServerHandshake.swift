/// The server side of the opening handshake (RFC 6455 §4.2): every check of
/// §4.2.1 with its HTTP answer, then routing, origin, subprotocol and extensions.
public struct WebSocketServerHandshake: Sendable {
    /// A handshake the server accepts.
    public struct Accepted {
        /// The headers of the 101 response.
        public var responseHeaders: HandshakeHeaders
        public var subprotocol: String?
        public var handler: any WebSocketHandler
        /// The extension instances for this connection, in response order.
        public var extensions: [any WebSocketExtension]
        /// The parameters the route took from the path.
        public var pathParameters: [String: String]
        /// The route's check before the 101, if it has one.
        public var accept: WebSocketAcceptHook?
        /// The route's path as it was added (`/rooms/{id}`): a label of bounded cardinality.
        public var routePath: String = ""
    }

    public enum Outcome {
        case accept(Accepted)
        case reject(HandshakeRejection)
    }

    public var routes: WebSocketRoutes
    /// The extensions this server can negotiate.
    public var extensions: [any WebSocketExtensionFactory]
    public var originPolicy: OriginPolicy

    public init(routes: WebSocketRoutes, extensions: [any WebSocketExtensionFactory] = [], originPolicy: OriginPolicy = .any) {
        self.routes = routes
        self.extensions = extensions
        self.originPolicy = originPolicy
    }

    /// Whether a request asks for a WebSocket (its `Upgrade` header names `websocket`).
    public static func isWebSocketUpgrade(_ request: HandshakeRequest) -> Bool {
        request.headers.listContains("Upgrade", token: "websocket")
    }

    /// Checks a request and decides the answer.
    public func evaluate(_ request: HandshakeRequest) -> Outcome {
        func reject(_ status: Int, _ reason: String, _ headers: HandshakeHeaders = [:]) -> Outcome {
            .reject(HandshakeRejection(status: status, reason: reason, headers: headers))
        }
        guard let (route, pathParameters) = routes.match(request.path) else { return reject(404, "no WebSocket route at \(request.path)") }
        let headers = request.headers
        guard Self.isWebSocketUpgrade(request) else {
            // RFC 9110 §15.5.22: 426 names the protocol to upgrade to.
            return reject(
                426, "this resource is a WebSocket endpoint", ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"])
        }
        // §4.2.1, items 1 to 6, in order.
        guard request.method == "GET" else { return reject(400, "the handshake must be a GET request, not \(request.method)") }
        guard (request.majorVersion, request.minorVersion) >= (1, 1) else { return reject(400, "the handshake needs HTTP/1.1 or later") }
        guard headers.single("Host") != nil else { return reject(400, "the handshake needs exactly one Host header") }
        guard headers.listContains("Connection", token: "upgrade") else { return reject(400, "the Connection header must include Upgrade") }
        let versions = headers.list("Sec-WebSocket-Version")
        guard !versions.isEmpty else { return reject(400, "Sec-WebSocket-Version is missing") }
        guard versions == ["13"] else {
            // §4.2.2 item 4: say which version we speak.
            return reject(426, "only WebSocket version 13 is supported", ["Sec-WebSocket-Version": "13"])
        }
        guard let key = headers.single("Sec-WebSocket-Key")?.trimmingHTTPWhitespace(), Base64.decodedCount(key) == 16 else {
            return reject(400, "Sec-WebSocket-Key must be one base64-encoded 16-byte value")
        }
        // §4.2.1 item 7 and §10.2: a browser's origin, checked by policy.
        guard originPolicy.permits(request) else {
            return reject(403, "origin \(headers.single("Origin") ?? "(none)") is not allowed")
        }
        let offers: [ExtensionOffer]
        do { offers = try ExtensionHeader.parse(headers["Sec-WebSocket-Extensions"]) } catch { return reject(400, error.description) }

        let offered = headers.list("Sec-WebSocket-Protocol")
        let subprotocol: String?
        let handler: any WebSocketHandler
        switch route.registry.choose(offered: offered, request: request) {
        case .reject(let reason): return reject(400, reason)
        case .accept(let token, let h): (subprotocol, handler) = (token, h)
        }
        let negotiated = ExtensionNegotiation.serverNegotiate(offers: offers, factories: self.extensions)

        var response: HandshakeHeaders = [
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": Self.acceptValue(forKey: key),
        ]
        if let subprotocol { response.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
        if let header = negotiated.header { response.add(name: "Sec-WebSocket-Extensions", value: header) }
        return .accept(
            Accepted(
                responseHeaders: response, subprotocol: subprotocol, handler: handler, extensions: negotiated.extensions,
                pathParameters: pathParameters, accept: route.accept, routePath: route.path))
    }

    /// `Sec-WebSocket-Accept` for a key: base64 of the SHA-1 of the key and the GUID of §1.3.
    public static func acceptValue(forKey key: String) -> String {
        var input: [UInt8] = []
        input.reserveCapacity(key.utf8.count + guid.utf8.count)
        input.append(contentsOf: key.utf8)
        input.append(contentsOf: guid.utf8)
        return Base64.encode(SHA1.hash(input))
    }

    /// The GUID of RFC 6455 §1.3.
    private static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
}
