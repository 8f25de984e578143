/// The client side of the opening handshake (RFC 6455 §4.1): the request to
/// send, and the checks of §4.1 that the response must pass.
public struct WebSocketClientHandshake: Sendable {
    /// The outcome of a successful check.
    public struct Accepted {
        public var subprotocol: String?
        /// Extension instances for this connection, in the order of the response.
        public var extensions: [any WebSocketExtension]
    }

    /// The nonce sent as `Sec-WebSocket-Key`: 16 random bytes in base64 (§4.1 item 7).
    public let key: String
    public let subprotocols: [String]
    public let extensions: [any WebSocketExtensionFactory]
    /// The request to send.
    public let request: HandshakeRequest

    /// - Parameters:
    ///   - host: the `Host` header value (`example.com` or `example.com:8080`).
    ///   - target: path and query.
    ///   - subprotocols: tokens to offer, most preferred first.
    ///   - extensions: extensions to offer.
    ///   - extra: extra headers, e.g. `Origin` or `Authorization`.
    ///   - key: the `Sec-WebSocket-Key`; `nil` draws a random one, as every real client must (§4.1).
    public init(
        host: String, target: String, subprotocols: [String] = [], extensions: [any WebSocketExtensionFactory] = [],
        headers extra: HandshakeHeaders = [:], key: String? = nil
    ) {
        var rng = SystemRandomNumberGenerator()
        self.key = key ?? Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
        self.subprotocols = subprotocols
        self.extensions = extensions
        var headers: HandshakeHeaders = [
            "Host": host,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": self.key,
            "Sec-WebSocket-Version": "13",
        ]
        if !subprotocols.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", ")) }
        if let offer = ExtensionNegotiation.clientOfferHeader(extensions) { headers.add(name: "Sec-WebSocket-Extensions", value: offer) }
        for field in extra { headers.add(name: field.name, value: field.value) }
        self.request = HandshakeRequest(target: target, headers: headers)
    }

    /// Checks the server's response (§4.1, "the client MUST validate the server's response").
    /// Any failure means _Fail the WebSocket Connection_.
    public func validate(status: Int, headers: HandshakeHeaders) throws(WebSocketError) -> Accepted {
        guard status == 101 else { throw .upgradeRefused(status: status) }  // item 1
        guard headers.listContains("Upgrade", token: "websocket") else { throw .handshakeFailed("response Upgrade is not websocket") }  // item 2
        // item 3
        guard headers.listContains("Connection", token: "upgrade") else { throw .handshakeFailed("response Connection does not include Upgrade") }
        let expected = WebSocketServerHandshake.acceptValue(forKey: key)
        guard headers.single("Sec-WebSocket-Accept")?.trimmingHTTPWhitespace() == expected else {  // item 4
            throw .handshakeFailed("Sec-WebSocket-Accept does not match the key")
        }
        let chosen = headers.list("Sec-WebSocket-Protocol")  // item 6
        guard chosen.count <= 1 else { throw .handshakeFailed("server chose more than one subprotocol") }
        if let token = chosen.first, !subprotocols.contains(token) {
            throw .handshakeFailed("server chose subprotocol \(token), which was not offered")
        }
        let accepted: [any WebSocketExtension]  // item 5
        do { accepted = try ExtensionNegotiation.clientAccept(response: headers["Sec-WebSocket-Extensions"], factories: extensions) } catch {
            throw .handshakeFailed(error.message)
        }
        return Accepted(subprotocol: chosen.first, extensions: accepted)
    }
}
