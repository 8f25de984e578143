import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// A route's accept hook (authentication before the 101) and path parameters.
@Suite("Accept hooks and path parameters", .serialized)
struct AcceptHookTests {
    /// The identity the hook hands the handler.
    enum User: WebSocketContextKey { typealias Value = String }

    /// `/rooms/{id}`: the hook wants `Authorization: Bearer <user>`; the handler answers
    /// "<user> in <id>" to each message.
    static func routes(hookCalls: Locked<Int> = Locked(0)) -> WebSocketRoutes {
        var routes = WebSocketRoutes()
        routes.add(
            "/rooms/{id}",
            handler: ClosureWebSocketHandler { inbound, outbound, context in
                for try await _ in inbound {
                    try await outbound.send(text: "\(context.values[User.self] ?? "nobody") in \(context.pathParameters["id"] ?? "?")")
                }
            },
            accept: { upgrade in
                hookCalls.withLock { $0 += 1 }
                try? await Task.sleep(for: .milliseconds(20))  // a real check awaits a store
                guard let token = upgrade.request.headers.single("Authorization"), token.hasPrefix("Bearer ") else {
                    return .reject(
                        HandshakeRejection(status: 401, reason: "a bearer token, please", headers: ["WWW-Authenticate": "Bearer realm=\"rooms\""]))
                }
                var values = WebSocketContextValues()
                values[User.self] = String(token.dropFirst("Bearer ".count))
                return .accept(values)
            })
        routes.add("/echo", handler: ClosureWebSocketHandler { inbound, outbound, _ in for try await m in inbound { try await outbound.send(m) } })
        return routes
    }

    @Test("Without a token: 401 with WWW-Authenticate and the reason, and the handler never runs")
    func rejected() async throws {
        try await withTimeout(20, "reject") {
            try await withServer(testConfiguration(Self.routes())) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest("/rooms/lobby"))
                    let head = try await raw.readHead()
                    #expect(status(of: head) == 401)
                    #expect(head?.contains("WWW-Authenticate: Bearer realm=\"rooms\"") == true, "\(head ?? "")")
                    let body = String(decoding: try await raw.readToEnd(), as: UTF8.self)
                    #expect(body == "a bearer token, please\n")
                }
            }
        }
    }

    @Test("With a token: the hook's identity and the path's parameters reach the handler")
    func accepted() async throws {
        try await withTimeout(20, "accept") {
            try await withServer(testConfiguration(Self.routes())) { _, port in
                let answer = Locked<WebSocketMessage?>(nil)
                var configuration = WebSocketClientConfiguration.test()
                configuration.headers.add(name: "Authorization", value: "Bearer alice")
                let close = try await WebSocketConnector.connect(to: url(port, "/rooms/tea%20room"), configuration: configuration) {
                    inbound, outbound, _ in
                    try await outbound.send(text: "hi")
                    var iterator = inbound.makeAsyncIterator()
                    let message = try await iterator.next()
                    answer.withLock { $0 = message }
                }
                #expect(answer.value == .text("alice in tea room"))
                #expect(close?.code == .normalClosure)
            }
        }
    }

    @Test("Frames a client sends right behind its request wait for the hook, then reach the handler")
    func framesBehindTheRequest() async throws {
        try await withTimeout(20, "pipelined frames") {
            try await withServer(testConfiguration(Self.routes())) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(
                        Array(handshakeRequest("/rooms/7", extra: "Authorization: Bearer bob\r\n").utf8) + maskedFrame(.text, Array("x".utf8)))
                    #expect(status(of: try await raw.readHead()) == 101)
                    let frame = try await raw.readFrame()
                    #expect(frame.map { String(buffer: $0.payload) } == "bob in 7")
                }
            }
        }
    }

    @Test("A hook that does not answer within the handshake timeout loses the connection and is cancelled; its floods are bounded")
    func slowHookIsBounded() async throws {
        try await withTimeout(20, "slow hook") {
            let cancelled = Locked(0)
            var routes = WebSocketRoutes()
            routes.add("/slow", handler: ClosureWebSocketHandler { _, _, _ in }) { _ in
                do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.withLock { $0 += 1 } }
                return .accept()
            }
            // 1 s, not less: a loaded machine can hold the raw client between its connect and its
            // request for a few hundred milliseconds, and a request after the timeout meets a closed socket.
            let configuration = testConfiguration(routes) { $0.handshakeTimeout = .seconds(1) }
            try await withServer(configuration) { _, port in
                // A peer that waits quietly, and one that floods bytes behind its request meanwhile.
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest("/slow"))
                    #expect(try await raw.readToEnd().isEmpty)  // closed at the timeout, no answer
                }
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest("/slow"))
                    let flood = [UInt8](repeating: 0x41, count: 64 << 10)
                    for _ in 0..<64 { guard (try? await raw.send(flood)) != nil else { break } }  // 4 MiB, past maxHandshakeSize
                    let answer = try? await raw.readToEnd()  // closed for the flood: a reset, unread bytes behind
                    #expect(answer?.isEmpty ?? true)
                }
                for _ in 0..<200 where cancelled.value < 2 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(cancelled.value == 2, "hooks cancelled: \(cancelled.value) of 2")
            }
        }
    }

    @Test("Routes: exact paths win over patterns, a parameter takes one non-empty segment, unknown paths are 404")
    func matching() {
        var routes = WebSocketRoutes()
        let registry = SubprotocolRegistry(defaultHandler: ClosureWebSocketHandler { _, _, _ in })
        routes.add("/rooms/{id}", registry)
        routes.add("/rooms/new", registry)
        routes.add("/u/{user}/c/{channel}", registry)
        #expect(routes.match("/rooms/new")?.parameters == [:])
        #expect(routes.match("/rooms/42")?.parameters == ["id": "42"])
        #expect(routes.match("/rooms/a%2Fb")?.parameters == ["id": "a/b"])
        #expect(routes.match("/u/ann/c/general")?.parameters == ["user": "ann", "channel": "general"])
        #expect(routes.match("/rooms/") == nil)
        #expect(routes.match("/rooms/1/2") == nil)
        #expect(routes.match("/elsewhere") == nil)
        #expect(routes.paths == ["/rooms/new", "/rooms/{id}", "/u/{user}/c/{channel}"])
    }

    @Test("A handshake the server refuses on its own (bad version) never reaches the hook")
    func hookRunsAfterTheHandshakeChecks() async throws {
        try await withTimeout(20, "order") {
            let calls = Locked(0)
            try await withServer(testConfiguration(Self.routes(hookCalls: calls))) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(
                        "GET /rooms/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\nAuthorization: Bearer x\r\n\r\n")
                    #expect(status(of: try await raw.readHead()) == 426)
                }
            }
            #expect(calls.value == 0)
        }
    }
}
