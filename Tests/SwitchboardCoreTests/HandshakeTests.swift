import SwitchboardCore
import Testing

/// A handler that only says which one it is.
struct NamedHandler: WebSocketHandler {
    let name: String
    func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {}
}

extension WebSocketServerHandshake.Outcome {
    var rejection: HandshakeRejection? {
        if case .reject(let r) = self { return r }
        return nil
    }

    var accepted: WebSocketServerHandshake.Accepted? {
        if case .accept(let a) = self { return a }
        return nil
    }

    var status: Int { rejection?.status ?? 101 }
    var handlerName: String? { (accepted?.handler as? NamedHandler)?.name }
}

/// The RFC's example key (§1.3, §4.2.2).
let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
let sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/// A valid handshake request for `path`, edited by `edit`.
func upgradeRequest(
    _ path: String = "/chat", method: String = "GET", version: (Int, Int) = (1, 1),
    edit: (inout [(String, String)]) -> Void = { _ in }
) -> HandshakeRequest {
    var fields: [(String, String)] = [
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", sampleKey),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Version", "13"),
    ]
    edit(&fields)
    return HandshakeRequest(
        method: method, target: path, headers: HandshakeHeaders(fields.map { (name: $0.0, value: $0.1) }),
        majorVersion: version.0, minorVersion: version.1)
}

extension Array where Element == (String, String) {
    mutating func remove(_ name: String) { removeAll { $0.0.lowercased() == name.lowercased() } }
    mutating func set(_ name: String, _ value: String) {
        remove(name)
        append((name, value))
    }
}

@Suite("Opening handshake, server side (RFC 6455 §4.2)")
struct ServerHandshakeTests {
    static func handshake(
        _ registry: SubprotocolRegistry = SubprotocolRegistry(defaultHandler: NamedHandler(name: "default")),
        origin: OriginPolicy = .any, extensions: [any WebSocketExtensionFactory] = []
    ) -> WebSocketServerHandshake {
        var routes = WebSocketRoutes()
        routes.add("/chat", registry)
        return WebSocketServerHandshake(routes: routes, extensions: extensions, originPolicy: origin)
    }

    @Test("§4.2.2 item 5.4: Sec-WebSocket-Accept for the RFC's example key")
    func acceptValue() throws {
        #expect(WebSocketServerHandshake.acceptValue(forKey: sampleKey) == sampleAccept)
        let accepted = try #require(Self.handshake().evaluate(upgradeRequest()).accepted)
        let headers = accepted.responseHeaders
        #expect(headers.single("Sec-WebSocket-Accept") == sampleAccept)
        #expect(headers.listContains("Upgrade", token: "websocket"))
        #expect(headers.listContains("Connection", token: "Upgrade"))
        #expect(headers["Sec-WebSocket-Protocol"].isEmpty)
        #expect(headers["Sec-WebSocket-Extensions"].isEmpty)
        #expect(accepted.subprotocol == nil)
    }

    @Test("§4.2.1: a request meeting every requirement is accepted, with header names and tokens in any case")
    func caseInsensitive() {
        let request = upgradeRequest("/chat?room=1") { f in
            f.set("upgrade", "WebSocket")
            f.set("CONNECTION", "keep-alive, upgrade")
            f.set("sec-websocket-version", "13")
        }
        #expect(Self.handshake().evaluate(request).status == 101)
    }

    @Test("§4.2.1 item 1: a path with no route gets 404")
    func unknownPath() {
        #expect(Self.handshake().evaluate(upgradeRequest("/nowhere")).status == 404)
    }

    @Test("RFC 9110 §15.5.22: a plain GET on a WebSocket route gets 426 naming websocket")
    func plainGet() throws {
        let rejection = try #require(
            Self.handshake().evaluate(
                upgradeRequest { f in
                    f.remove("Upgrade")
                    f.set("Connection", "keep-alive")
                }
            ).rejection)
        #expect(rejection.status == 426)
        #expect(rejection.headers.listContains("Upgrade", token: "websocket"))
        #expect(rejection.headers["Sec-WebSocket-Version"] == ["13"])
    }

    @Test("§4.2.1 item 1: a method other than GET gets 400", arguments: ["POST", "PUT", "HEAD", "get"])
    func notGet(method: String) {
        #expect(Self.handshake().evaluate(upgradeRequest(method: method)).status == 400)
    }

    @Test("§4.2.1 item 1: HTTP/1.0 gets 400; HTTP/1.1 and later are accepted")
    func httpVersion() {
        #expect(Self.handshake().evaluate(upgradeRequest(version: (1, 0))).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest(version: (0, 9))).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest(version: (1, 1))).status == 101)
    }

    @Test("§4.2.1 item 2: a missing or repeated Host gets 400")
    func host() {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.remove("Host") }).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest { $0.append(("Host", "other.example")) }).status == 400)
    }

    @Test("§4.2.1 item 4: a Connection header without Upgrade gets 400")
    func connectionWithoutUpgrade() {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.set("Connection", "keep-alive") }).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest { $0.remove("Connection") }).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest { $0.set("Connection", "upgraded") }).status == 400)
    }

    @Test("§4.2.1 item 6: a missing Sec-WebSocket-Version gets 400")
    func missingVersion() {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.remove("Sec-WebSocket-Version") }).status == 400)
    }

    @Test("§4.2.2 item 4: another version gets 426 with Sec-WebSocket-Version: 13", arguments: ["8", "7", "14", "13, 8"])
    func otherVersion(version: String) throws {
        let rejection = try #require(Self.handshake().evaluate(upgradeRequest { $0.set("Sec-WebSocket-Version", version) }).rejection)
        #expect(rejection.status == 426)
        #expect(rejection.headers["Sec-WebSocket-Version"] == ["13"])
    }

    @Test(
        "§4.2.1 item 5: a Sec-WebSocket-Key that is not base64 of 16 bytes gets 400",
        arguments: [
            "not base64!!", "dGhlIHNhbXBsZSBub25j", "AAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAA", "dGhlIHNhbXBsZSBub25jZQ", "",
            "AAAAAAAAAAAAAAAAAAAAA===", "AAAAAAAAAAAAAAAAAAAA=AA=", "AAAAAAAAAAAAAAAAAAAAAA=A", "AAAAAAAAAAAAAAAAAAAAA-==",
            "AAAAAAAAAAAAAAAAAAAAAA==AAAA", "AAAAAAAAAAAAAAAAAAAAAAA=",
        ])
    func badKey(key: String) {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.set("Sec-WebSocket-Key", key) }).status == 400)
    }

    @Test(
        "§4.2.1 item 5: any base64 of 16 bytes is a key, every letter of the alphabet included",
        arguments: [
            "dGhlIHNhbXBsZSBub25jZQ==", "++++++++++++++++++++++==", "//////////////////////==",
            "ABCDEFGHIJKLMNOPQRSTUV==", "WXYZabcdefghijklmnopqr==", "stuvwxyz0123456789+/AA==",
        ])
    func goodKey(key: String) {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.set("Sec-WebSocket-Key", key) }).status == 101)
    }

    @Test("§4.2.1 item 5: a missing or repeated Sec-WebSocket-Key gets 400")
    func missingKey() {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.remove("Sec-WebSocket-Key") }).status == 400)
        #expect(Self.handshake().evaluate(upgradeRequest { $0.append(("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")) }).status == 400)
    }

    @Test("§4.2.1 item 7, §10.2: an Origin refused by OriginPolicy.allow gets 403")
    func originPolicy() {
        let policy = OriginPolicy.allow(["https://good.example"])
        #expect(Self.handshake(origin: policy).evaluate(upgradeRequest { $0.set("Origin", "https://evil.example") }).status == 403)
        #expect(Self.handshake(origin: policy).evaluate(upgradeRequest { $0.set("Origin", "https://GOOD.example") }).status == 101)
        #expect(Self.handshake(origin: policy).evaluate(upgradeRequest { $0.remove("Origin") }).status == 101)
        let custom = OriginPolicy.custom { origin, _ in origin?.hasSuffix(".trusted") ?? false }
        #expect(Self.handshake(origin: custom).evaluate(upgradeRequest { $0.set("Origin", "https://a.trusted") }).status == 101)
        #expect(Self.handshake(origin: custom).evaluate(upgradeRequest()).status == 403)
    }

    @Test("§9.1: a malformed Sec-WebSocket-Extensions gets 400")
    func malformedExtensions() {
        #expect(Self.handshake().evaluate(upgradeRequest { $0.set("Sec-WebSocket-Extensions", "foo; =bar") }).status == 400)
    }

    // MARK: Subprotocols (§4.2.2 /subprotocol/, §1.9)

    static func registry(
        _ selection: SubprotocolRegistry.Selection = .serverPreference, required: Bool = false,
        defaultHandler: (any WebSocketHandler)? = nil
    ) -> SubprotocolRegistry {
        var registry = SubprotocolRegistry(selection: selection, requiresSubprotocol: required, defaultHandler: defaultHandler)
        registry.register("chat.v2", NamedHandler(name: "v2"))
        registry.register("chat.v1", NamedHandler(name: "v1"))
        registry.register("superchat", NamedHandler(name: "super"))
        return registry
    }

    static func offering(_ protocols: String...) -> HandshakeRequest {
        upgradeRequest { f in for p in protocols { f.append(("Sec-WebSocket-Protocol", p)) } }
    }

    @Test("§4.2.2: by default the server's preference order picks the subprotocol, answered as exactly one token")
    func serverPreference() throws {
        let outcome = Self.handshake(Self.registry()).evaluate(Self.offering("superchat, chat.v1"))
        let accepted = try #require(outcome.accepted)
        #expect(accepted.subprotocol == "chat.v1")
        #expect(outcome.handlerName == "v1")
        #expect(accepted.responseHeaders["Sec-WebSocket-Protocol"] == ["chat.v1"])
    }

    @Test("§4.2.2: offers over several header lines form one list")
    func offersOverSeveralLines() {
        #expect(Self.handshake(Self.registry()).evaluate(Self.offering("superchat", "chat.v2")).accepted?.subprotocol == "chat.v2")
    }

    @Test("§4.2.2: clientPreference picks the first offered token that is registered")
    func clientPreference() {
        let outcome = Self.handshake(Self.registry(.clientPreference)).evaluate(Self.offering("unknown, superchat, chat.v1"))
        #expect(outcome.accepted?.subprotocol == "superchat")
        #expect(outcome.handlerName == "super")
    }

    @Test("§4.2.2: a custom closure picks among the offers; a pick that was not offered or is not registered picks none")
    func customSelection() {
        let pickLast = Self.registry(.custom { offered, _ in offered.last }, defaultHandler: NamedHandler(name: "default"))
        #expect(Self.handshake(pickLast).evaluate(Self.offering("chat.v2, chat.v1")).accepted?.subprotocol == "chat.v1")
        let byQuery = Self.registry(.custom { _, request in request.queryItems.first { $0.name == "p" }?.value })
        var request = Self.offering("chat.v1, chat.v2")
        request.target = "/chat?p=chat.v2"
        #expect(Self.handshake(byQuery).evaluate(request).accepted?.subprotocol == "chat.v2")

        let pickUnoffered = Self.registry(.custom { _, _ in "superchat" }, defaultHandler: NamedHandler(name: "default"))
        let outcome = Self.handshake(pickUnoffered).evaluate(Self.offering("chat.v1"))
        #expect(outcome.accepted?.subprotocol == nil)
        #expect(outcome.handlerName == "default")
        #expect(outcome.accepted?.responseHeaders["Sec-WebSocket-Protocol"] == [])
        let pickUnregistered = Self.registry(.custom { _, _ in "other" }, defaultHandler: NamedHandler(name: "default"))
        #expect(Self.handshake(pickUnregistered).evaluate(Self.offering("other")).accepted?.subprotocol == nil)
    }

    @Test("§4.2.2: a route that requires a subprotocol answers 400 when none of the offers is served, or none is offered")
    func requiredButMissing() {
        let registry = Self.registry(required: true, defaultHandler: NamedHandler(name: "default"))
        #expect(Self.handshake(registry).evaluate(upgradeRequest()).status == 400)
        #expect(Self.handshake(registry).evaluate(Self.offering("unknown")).status == 400)
        #expect(Self.handshake(registry).evaluate(Self.offering("chat.v1")).status == 101)
    }

    @Test("§4.2.2: a client that offers no subprotocol gets the route's default handler and no Sec-WebSocket-Protocol")
    func defaultHandler() throws {
        let registry = Self.registry(defaultHandler: NamedHandler(name: "default"))
        let outcome = Self.handshake(registry).evaluate(upgradeRequest())
        let accepted = try #require(outcome.accepted)
        #expect(accepted.subprotocol == nil)
        #expect(outcome.handlerName == "default")
        #expect(accepted.responseHeaders["Sec-WebSocket-Protocol"].isEmpty)
        // An offer of unknown tokens is treated the same way.
        #expect(Self.handshake(registry).evaluate(Self.offering("unknown")).handlerName == "default")
        // Without a default handler there is nothing to run: refused.
        #expect(Self.handshake(Self.registry()).evaluate(upgradeRequest()).status == 400)
    }

    @Test("§4.2.2: routes map paths (without the query) to registries")
    func routes() {
        var routes = WebSocketRoutes()
        routes.add("/a", handler: NamedHandler(name: "a"))
        routes.add("/b", handler: NamedHandler(name: "b"))
        let handshake = WebSocketServerHandshake(routes: routes)
        #expect(handshake.evaluate(upgradeRequest("/a")).handlerName == "a")
        #expect(handshake.evaluate(upgradeRequest("/b?x=1")).handlerName == "b")
        #expect(handshake.evaluate(upgradeRequest("/c")).status == 404)
        #expect(routes.paths == ["/a", "/b"])
    }

    @Test("§4.1: the request exposes path, query and decoded query items")
    func requestParts() {
        let request = HandshakeRequest(target: "/rpc/v1?name=J%C3%BCrgen+X&flag&x=%zz", headers: [:])
        #expect(request.path == "/rpc/v1")
        #expect(request.query == "name=J%C3%BCrgen+X&flag&x=%zz")
        #expect(request.queryItems.map(\.name) == ["name", "flag", "x"])
        #expect(request.queryItems.map(\.value) == ["Jürgen X", "", "%zz"])
    }

    @Test(
        "RFC 3986 §3.4, §3.5: the path ends at ? or #; the query runs from ? to #",
        arguments: [
            ("/a", "/a", nil), ("/a?", "/a", ""), ("/a?b=1#f", "/a", "b=1"), ("/a#f?b", "/a", nil),
            ("/caf\u{E9}?q=\u{E9}", "/caf\u{E9}", "q=\u{E9}"), ("", "", nil), ("?x", "", "x"),
        ] as [(String, String, String?)])
    func pathAndQuery(target: String, path: String, query: String?) {
        let request = HandshakeRequest(target: target, headers: [:])
        #expect(request.path == path)
        #expect(request.query == query)
    }
}

@Suite("Opening handshake, client side (RFC 6455 §4.1)")
struct ClientHandshakeTests {
    static func client(
        subprotocols: [String] = ["chat", "superchat"], extensions: [any WebSocketExtensionFactory] = []
    )
        -> WebSocketClientHandshake
    {
        WebSocketClientHandshake(
            host: "server.example.com", target: "/chat", subprotocols: subprotocols, extensions: extensions,
            headers: ["Origin": "http://example.com"], key: sampleKey)
    }

    /// The response of §1.2, edited by `edit`.
    static func response(_ edit: (inout [(String, String)]) -> Void = { _ in }) -> HandshakeHeaders {
        var fields: [(String, String)] = [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", sampleAccept),
            ("Sec-WebSocket-Protocol", "chat"),
        ]
        edit(&fields)
        return HandshakeHeaders(fields.map { (name: $0.0, value: $0.1) })
    }

    static func failure(_ headers: HandshakeHeaders, status: Int = 101, client handshake: WebSocketClientHandshake = client()) -> String? {
        do {
            _ = try handshake.validate(status: status, headers: headers)
            return nil
        } catch {
            guard case .handshakeFailed(let why) = error else { return "unexpected \(error)" }
            return why
        }
    }

    @Test("§4.1: the request has every header the server requires, and a fresh 16-byte base64 key")
    func request() {
        let handshake = WebSocketClientHandshake(
            host: "example.com:8080", target: "/chat?x=1", subprotocols: ["a", "b"],
            extensions: [TestExtensionFactory(token: "x-one", reservedBits: .rsv1)])
        let r = handshake.request
        #expect(r.method == "GET" && r.target == "/chat?x=1" && (r.majorVersion, r.minorVersion) == (1, 1))
        #expect(r.headers.single("Host") == "example.com:8080")
        #expect(r.headers.single("Upgrade") == "websocket")
        #expect(r.headers.listContains("Connection", token: "upgrade"))
        #expect(r.headers.single("Sec-WebSocket-Version") == "13")
        #expect(r.headers.list("Sec-WebSocket-Protocol") == ["a", "b"])
        #expect(r.headers.single("Sec-WebSocket-Extensions") == "x-one")
        #expect(r.headers.single("Sec-WebSocket-Key") == handshake.key)
        #expect(handshake.key.count == 24 && handshake.key.hasSuffix("=="))
        let other = WebSocketClientHandshake(host: "example.com", target: "/")
        #expect(other.key != handshake.key)
        #expect(other.request.headers["Sec-WebSocket-Protocol"].isEmpty)
        #expect(other.request.headers["Sec-WebSocket-Extensions"].isEmpty)
        // The client's request passes the server's checks.
        var routes = WebSocketRoutes()
        routes.add("/chat", handler: NamedHandler(name: "x"))
        #expect(WebSocketServerHandshake(routes: routes).evaluate(handshake.request).status == 101)
    }

    @Test("§4.1: a correct response passes, with the chosen subprotocol")
    func correctResponse() throws {
        let accepted = try Self.client().validate(status: 101, headers: Self.response())
        #expect(accepted.subprotocol == "chat")
        #expect(accepted.extensions.isEmpty)
        let none = try Self.client().validate(status: 101, headers: Self.response { $0.remove("Sec-WebSocket-Protocol") })
        #expect(none.subprotocol == nil, "the server may decline every offered subprotocol")
        let mixedCase = Self.response { f in
            f.set("upgrade", "WebSocket")
            f.set("connection", "upgrade")
        }
        #expect(Self.failure(mixedCase) == nil)
    }

    @Test("§4.1 item 1: a status other than 101 fails, as upgradeRefused with that status", arguments: [200, 400, 403, 426, 302])
    func notSwitchingProtocols(status: Int) {
        #expect(throws: WebSocketError.upgradeRefused(status: status)) {
            try Self.client().validate(status: status, headers: Self.response())
        }
    }

    @Test("§4.1 item 2: a missing or wrong Upgrade fails")
    func upgrade() {
        #expect(Self.failure(Self.response { $0.remove("Upgrade") }) != nil)
        #expect(Self.failure(Self.response { $0.set("Upgrade", "h2c") }) != nil)
    }

    @Test("§4.1 item 3: a Connection without Upgrade fails")
    func connection() {
        #expect(Self.failure(Self.response { $0.remove("Connection") }) != nil)
        #expect(Self.failure(Self.response { $0.set("Connection", "keep-alive") }) != nil)
    }

    @Test("§4.1 item 4: a wrong or missing Sec-WebSocket-Accept fails")
    func accept() {
        #expect(Self.failure(Self.response { $0.set("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=") }) != nil)
        #expect(Self.failure(Self.response { $0.set("Sec-WebSocket-Accept", sampleKey) }) != nil)
        #expect(Self.failure(Self.response { $0.remove("Sec-WebSocket-Accept") }) != nil)
        #expect(Self.failure(Self.response { $0.append(("Sec-WebSocket-Accept", sampleAccept)) }) != nil)
    }

    @Test("§4.1 item 6: a subprotocol the client did not offer fails")
    func unofferedSubprotocol() {
        #expect(Self.failure(Self.response { $0.set("Sec-WebSocket-Protocol", "evil") }) != nil)
        #expect(Self.failure(Self.response(), client: Self.client(subprotocols: [])) != nil, "none offered, one answered")
    }

    @Test("§4.1 item 6: more than one subprotocol in the answer fails")
    func twoSubprotocols() {
        #expect(Self.failure(Self.response { $0.set("Sec-WebSocket-Protocol", "chat, superchat") }) != nil)
        #expect(Self.failure(Self.response { $0.append(("Sec-WebSocket-Protocol", "superchat")) }) != nil)
    }

    @Test("§4.1 item 5: an extension the client did not offer fails")
    func unofferedExtension() {
        #expect(Self.failure(Self.response { $0.append(("Sec-WebSocket-Extensions", "permessage-deflate")) }) != nil)
        let offering = Self.client(extensions: [TestExtensionFactory(token: "x-one", reservedBits: .rsv1)])
        #expect(Self.failure(Self.response { $0.append(("Sec-WebSocket-Extensions", "x-two")) }, client: offering) != nil)
        #expect(Self.failure(Self.response { $0.append(("Sec-WebSocket-Extensions", "x-one")) }, client: offering) == nil)
    }
}
