import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// A user's subprotocol registered on a route and chosen at the handshake (RFC 6455 §1.9, §4.2.2).
@Suite("Custom subprotocol: reverse.v1", .serialized)
struct ReverseProtocolTests {
    /// Serves `reverse.v1` at /reverse, next to another subprotocol, with an optional requirement.
    static func routes(required: Bool = false) -> WebSocketRoutes {
        var registry = SubprotocolRegistry(requiresSubprotocol: required)
        registry.register("other.v1") { inbound, outbound, _ in
            for try await _ in inbound { try await outbound.send(text: "other") }
        }
        registry.registerReverse(ReverseProtocol(suffix: "!"))
        var routes = WebSocketRoutes()
        routes.add("/reverse", registry)
        return routes
    }

    @Test("§4.2.2: offering reverse.v1 negotiates it, and text comes back reversed")
    func reverses() async throws {
        try await withServer(Self.routes()) { port in
            let replies = Locked<[String]>([])
            let chosen = Locked<String?>(nil)
            let close = try await WebSocketConnector.connect(
                to: "ws://127.0.0.1:\(port)/reverse",
                configuration: .init(subprotocols: ["unknown.v9", ReverseProtocol.token])
            ) {
                inbound, outbound, context in
                chosen.withLock { $0 = context.subprotocol }
                var iterator = inbound.makeAsyncIterator()
                for text in ["hello", "héllo wörld", "👋🏽 ok", ""] {
                    try await outbound.send(text: text)
                    let reply = try await iterator.next()?.text ?? "<none>"
                    replies.withLock { $0.append(reply) }
                }
            }
            #expect(chosen.value == "reverse.v1")
            #expect(replies.value == ["olleh!", "dlröw olléh!", "ko 👋🏽!", "!"])
            #expect(close?.code == .normalClosure)
        }
    }

    @Test("§4.2.2: the server picks the subprotocol the client offered; a client not offering reverse.v1 does not get it")
    func otherSubprotocol() async throws {
        try await withServer(Self.routes()) { port in
            let chosen = Locked<String?>(nil)
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/reverse", configuration: .init(subprotocols: ["other.v1"])) {
                _, _, context in
                chosen.withLock { $0 = context.subprotocol }
            }
            #expect(chosen.value == "other.v1")
        }
    }

    @Test("§4.2.2: a route that requires a subprotocol refuses a client that offers none")
    func required() async throws {
        try await withServer(Self.routes(required: true)) { port in
            await #expect(throws: WebSocketError.self) {
                try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/reverse") { _, _, _ in }
            }
        }
    }

    @Test("§7.4.1: the subprotocol's own rule: binary is refused with 1003")
    func binaryRefused() async throws {
        try await withServer(Self.routes()) { port in
            let close = try await WebSocketConnector.connect(
                to: "ws://127.0.0.1:\(port)/reverse",
                configuration: .init(subprotocols: [ReverseProtocol.token])
            ) {
                inbound, outbound, _ in
                try await outbound.send(binary: ByteBuffer(bytes: [1, 2, 3]))
                for try await _ in inbound {}
            }
            #expect(close?.code == .unsupportedData)
        }
    }
}
