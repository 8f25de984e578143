import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import XMPP

/// Our client against our server over loopback: two accounts, a message through the router,
/// presence, pings both ways, and a wrong password.
@Suite struct XMPPClientServerTests {
    func withServer(
        _ xmppConfiguration: XMPPConfiguration = XMPPConfiguration(), _ body: @escaping @Sendable (String, XMPPServer) async throws -> Void
    ) async throws {
        let accounts = InMemoryAccountStore()
        accounts.add("alice", password: "wonderland", iterations: 64)
        accounts.add("bob", password: "builder", iterations: 64)
        let xmpp = XMPPServer(configuration: xmppConfiguration, accounts: accounts)
        var routes = WebSocketRoutes()
        routes.add("/xmpp", .xmpp(xmpp))
        let configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
        try await withLoopbackServer(configuration, seconds: 30) { _, port in try await body("ws://127.0.0.1:\(port)/xmpp", xmpp) }
    }

    func withServer(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        try await withServer(XMPPConfiguration()) { url, _ in try await body(url) }
    }

    /// Runs `client` on a connection to `url`; rethrows what the client threw.
    func run(_ url: String, _ client: XMPPClient) async throws {
        let failure = Locked<(any Error)?>(nil)
        _ = try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [XMPPServer.token])) { inbound, outbound, context in
            do { try await client.handle(inbound, outbound, context: context) } catch { failure.withLock { $0 = error } }
        }
        if let error = failure.value { throw error }
    }

    @Test func twoClientsExchangeAMessage() async throws {
        try await withServer { url in
            let bobReady = Locked<XMPPSession?>(nil)
            let received = Locked<String?>(nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await run(
                        url,
                        XMPPClient(jid: JID("bob@localhost/desk")!, password: "builder") { session in
                            #expect(session.jid == JID("bob@localhost/desk"))
                            try await session.sendPresence()
                            bobReady.withLock { $0 = session }
                            for await stanza in session.incoming where stanza.name.local == "message" {
                                received.withLock { $0 = stanza.element(XName("body", namespace: "jabber:client"))?.text }
                                #expect(stanza.attribute(XName("from"))?.hasPrefix("alice@localhost/") == true)
                                return
                            }
                        })
                }
                group.addTask {
                    for _ in 0..<500 where bobReady.value == nil { try await Task.sleep(for: .milliseconds(10)) }
                    try await run(
                        url,
                        XMPPClient(jid: JID("alice@localhost")!, password: "wonderland") { session in
                            #expect(session.jid.resource != nil)  // the server made one
                            try await session.ping()
                            try await session.ping(JID("bob@localhost/desk"))  // bob's client answers pings itself
                            try await session.send(message: "hello bob", to: JID("bob@localhost")!)
                        })
                }
                try await group.waitForAll()
            }
            #expect(received.value == "hello bob")
        }
    }

    @Test("shutdown() ends a logged-in client's stream with system-shutdown, which the client throws")
    func shutdownSendsSystemShutdown() async throws {
        try await withServer(XMPPConfiguration()) { url, xmpp in
            let ended = Locked<Bool>(false)
            await #expect(throws: XMPPClientError.streamError(.systemShutdown, "the server is shutting down")) {
                try await run(
                    url,
                    XMPPClient(jid: JID("alice@localhost/desk")!, password: "wonderland") { session in
                        Task { await xmpp.shutdown() }
                        for await _ in session.incoming {}  // ends when the stream does
                        ended.withLock { $0 = true }
                    })
            }
            #expect(ended.value)
        }
    }

    @Test("A connection that has not bound a resource within loginTimeout gets connection-timeout, then <close/> and close 1000")
    func loginTimeout() async throws {
        // 1 s: on a loaded machine the client's <open/> came after a 300 ms timeout (the error and
        // <close/> then came alone), and this test is about what follows an open in time.
        try await withServer(XMPPConfiguration(loginTimeout: .seconds(1))) { url, _ in
            let received = Locked<[String]>([])
            let close = try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [XMPPServer.token])) {
                inbound, outbound, _ in
                try await outbound.send(text: "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>")
                for try await message in inbound { received.withLock { $0.append(String(buffer: message.data)) } }
            }
            let messages = received.value
            #expect(messages.count == 4, "\(messages)")  // <open/>, features, the error, <close/>
            #expect(messages.dropLast().last?.contains("connection-timeout") == true)
            #expect(messages.last?.hasPrefix("<close") == true)
            #expect(close?.code == .normalClosure && close?.reason == "connection-timeout")
        }
    }

    @Test func aWrongPasswordFailsAuthentication() async throws {
        try await withServer { url in
            await #expect(throws: XMPPClientError.authenticationFailed("not-authorized")) {
                try await run(url, XMPPClient(jid: JID("alice@localhost")!, password: "wrong") { _ in })
            }
        }
    }
}
