import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Uppercases every text message it gets, on whichever session it runs.
struct Shout: WebSocketHandler {
    func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        for try await message in inbound {
            guard let text = message.text else { continue }
            try await outbound.send(text: text.uppercased())
        }
    }
}

extension WebSocketContext {
    /// The second session, through the opener x-twin's carrier publishes in the context.
    func openTwin() async throws -> WebSocketSession {
        guard let opener = values[TwinOpener.Key.self] else { throw TwinRefused(reason: "no x-twin") }
        return try await opener.openSecond()
    }
}

@Suite("A user's session extension (x-twin), registered from outside the library")
struct TwinSessionsTests {
    @Test("Two sessions over one socket: each is served by the route's handler, and the bytes carry the session's number")
    func twoSessions() async throws {
        var routes = WebSocketRoutes()
        routes.add("/shout", handler: Shout())
        let configuration = WebSocketServerConfiguration(
            host: "127.0.0.1", port: 0, routes: routes, extensions: [TwinSessions()],
            shutdownTimeout: .seconds(1))
        try await withLoopbackServer(configuration, seconds: 30) { _, port in
            let client = WebSocketClientConfiguration(extensions: [TwinSessions()])
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/shout", configuration: client) { inbound, outbound, context in
                // Session 1 is the socket's own: its context shows its own extensions (none), as a channel's would.
                #expect(context.extensions.isEmpty)
                try await outbound.send(text: "first")
                var replies = inbound.makeAsyncIterator()
                #expect(try await replies.next()?.text == "FIRST")
                let second = try await context.openTwin()
                try await second.outbound.send(text: "second")
                var secondReplies = second.inbound.makeAsyncIterator()
                #expect(try await secondReplies.next()?.text == "SECOND")
                await #expect(throws: TwinRefused.self) { try await context.openTwin() }
            }
        }
    }

    @Test("Without the extension on the server, the socket is a plain one")
    func declined() async throws {
        var routes = WebSocketRoutes()
        routes.add("/shout", handler: Shout())
        let configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
        try await withLoopbackServer(configuration, seconds: 30) { _, port in
            let client = WebSocketClientConfiguration(extensions: [TwinSessions()])
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/shout", configuration: client) { inbound, outbound, context in
                try await outbound.send(text: "plain")
                var replies = inbound.makeAsyncIterator()
                #expect(try await replies.next()?.text == "PLAIN")
                await #expect(throws: TwinRefused.self) { try await context.openTwin() }
            }
        }
    }
}
