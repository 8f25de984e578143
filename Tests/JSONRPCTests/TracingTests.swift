import HTTPTypes
import JSONRPC
import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing
import Tracing

/// Spans through swift-distributed-tracing (issue 19): a handshake's on both ends, carried by
/// `traceparent`, and each JSON-RPC call's under the handshake of its connection.
@Suite("Tracing: handshake spans continue traceparent; calls are their children")
struct TracingTests {
    static let room = "/traced/{room}"

    /// Serves JSON-RPC `add` at ``room``, and at `/guarded` behind a hook that starts a span and refuses.
    func withTracedServer(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        var methods = JSONRPCMethods()
        methods.register("add") { (numbers: [Int], _) in numbers.reduce(0, +) }
        var routes = WebSocketRoutes()
        routes.add(Self.room, .jsonRPC(JSONRPCHandler(methods: methods)))
        routes.add("/guarded", .jsonRPC(JSONRPCHandler(methods: methods))) { _ in
            await withSpan("check token") { _ in
                .reject(HandshakeRejection(status: 403, reason: "no token"))
            }
        }
        let configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
        try await withLoopbackServer(configuration, seconds: 30) { _, port in try await body(port) }
    }

    /// The spans of `traceID` once `count` have ended (the server's end on its own loop, a moment later).
    func spans(inTrace traceID: String, count: Int) async throws -> [ScopedTestTracer.Finished] {
        let tracer = ScopedTestTracer.shared
        let deadline = ContinuousClock.now + .seconds(5)
        while tracer.spans(inTrace: traceID).count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return tracer.spans(inTrace: traceID)
    }

    @Test("Client span → traceparent → server span GET /traced/{room} → the call spans; an unknown method is _OTHER with its error code")
    func traceAcrossHandshakeAndCalls() async throws {
        try await withTracedServer { port in
            let traceID = try await ScopedTestTracer.recording {
                try await withSpan("test") { root in
                    let client = JSONRPCHandler { server in
                        let sum: Int = try await server.call("add", [20, 22])
                        #expect(sum == 42)
                        await #expect(throws: JSONRPCError.self) { let _: Int = try await server.call("nope") }
                    }
                    try await WebSocketConnector.connect(
                        to: "ws://127.0.0.1:\(port)/traced/blue", configuration: .init(subprotocols: ["jsonrpc"])
                    ) { try await client.handle($0, $1, context: $2) }
                    return try #require(root.context[ScopedTestTracer.IdentityKey.self]).traceID
                }
            }
            let spans = try await spans(inTrace: traceID, count: 7)
            func one(_ name: String, _ kind: SpanKind) throws -> ScopedTestTracer.Finished {
                let matching = spans.filter { $0.name == name && $0.kind == kind }
                #expect(matching.count == 1, "\(name) \(kind): \(spans.map { "\($0.name) \($0.kind)" })")
                return try #require(matching.first)
            }
            let root = try one("test", .internal)
            let clientHandshake = try one("GET", .client)
            let serverHandshake = try one("GET \(Self.room)", .server)
            #expect(clientHandshake.parentSpanID == root.identity.spanID)
            #expect(serverHandshake.parentSpanID == clientHandshake.identity.spanID)
            #expect(serverHandshake.attributes["http.route"]?.toSpanAttribute() == .string(Self.room))
            #expect(serverHandshake.attributes["url.path"]?.toSpanAttribute() == .string("/traced/blue"))
            #expect(serverHandshake.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(101))
            #expect(serverHandshake.attributes["websocket.subprotocol"]?.toSpanAttribute() == .string("jsonrpc"))

            let served = try one("add", .server)
            #expect(served.parentSpanID == serverHandshake.identity.spanID)
            #expect(served.attributes["rpc.system"]?.toSpanAttribute() == .string("jsonrpc"))
            #expect(served.attributes["rpc.jsonrpc.request_id"] != nil, "a recording span gets the call's id")
            #expect(served.attributes["rpc.jsonrpc.error_code"] == nil && served.status == nil)
            #expect(try one("add", .client).parentSpanID == clientHandshake.identity.spanID)

            let unknown = try one("_OTHER", .server)
            #expect(unknown.parentSpanID == serverHandshake.identity.spanID)
            #expect(unknown.attributes["rpc.jsonrpc.error_code"]?.toSpanAttribute() == .string("-32601"))
            #expect(unknown.status?.code == .error)
            #expect(try one("nope", .client).attributes["rpc.jsonrpc.error_code"]?.toSpanAttribute() == .string("-32601"))
        }
    }

    @Test("A hosted upgrade the host server drops without installing ends its span, as abandoned")
    func abandonedHostedUpgrade() async throws {
        var routes = WebSocketRoutes()
        routes.add("/hosted", .jsonRPC(JSONRPCHandler()))
        let hosted = HostedWebSocketServer(routes: routes)
        var request = HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1", path: "/hosted")
        request.headerFields[.upgrade] = "websocket"
        request.headerFields[.connection] = "Upgrade"
        request.headerFields[.secWebSocketKey] = "dGhlIHNhbXBsZSBub25jZQ=="
        request.headerFields[.secWebSocketVersion] = "13"
        let traceID = try await ScopedTestTracer.recording {
            try await withSpan("test") { root in
                let decision = await hosted.evaluate(request, remoteAddress: nil, isSecure: false)
                guard case .upgrade(let upgrade) = decision else {
                    Issue.record("not accepted: \(decision)")
                    return ""
                }
                #expect(upgrade.subprotocol == nil)
                return try #require(root.context[ScopedTestTracer.IdentityKey.self]).traceID
            }  // the upgrade is dropped here, never installed
        }
        let spans = try await spans(inTrace: traceID, count: 2)
        let handshake = try #require(spans.first { $0.kind == .server }, "\(spans.map(\.name))")
        #expect(handshake.name == "GET")
        #expect(handshake.attributes["error.type"]?.toSpanAttribute() == .string("abandoned"))
        #expect(handshake.status?.code == .error)
    }

    @Test("A traceparent from a peer that is not ours is continued; a refusal ends the span with its status, the hook's span inside it")
    func foreignTraceparent() async throws {
        _ = ScopedTestTracer.shared
        try await withTracedServer { port in
            let (traceID, parentID) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
            let headers: HandshakeHeaders = ["traceparent": "00-\(traceID)-\(parentID)-01"]
            // Outside `recording`: our client's span records nothing and adds no header of its own.
            try await WebSocketConnector.connect(
                to: "ws://127.0.0.1:\(port)/traced/red", configuration: .init(subprotocols: ["jsonrpc"], headers: headers)
            ) { _, outbound, _ in try await outbound.send(text: #"{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}"#) }
            let served = try await spans(inTrace: traceID, count: 2)
            let handshake = try #require(served.first { $0.kind == .server && $0.name == "GET \(Self.room)" })
            #expect(handshake.parentSpanID == parentID)
            #expect(served.contains { $0.name == "add" && $0.parentSpanID == handshake.identity.spanID })

            let refusedTrace = "0af7651916cd43dd8448eb211c80319c"
            await #expect(throws: WebSocketError.upgradeRefused(status: 403)) {
                try await WebSocketConnector.connect(
                    to: "ws://127.0.0.1:\(port)/guarded",
                    configuration: .init(subprotocols: ["jsonrpc"], headers: ["traceparent": "00-\(refusedTrace)-b7ad6b7169203331-01"])
                ) { _, _, _ in }
            }
            let refused = try await spans(inTrace: refusedTrace, count: 2)
            let refusal = try #require(refused.first { $0.kind == .server })
            #expect(refusal.name == "GET")
            #expect(refusal.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(403))
            #expect(refused.contains { $0.name == "check token" && $0.parentSpanID == refusal.identity.spanID })
        }
    }
}
