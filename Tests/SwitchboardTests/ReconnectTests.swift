import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// `WebSocketConnector.reconnecting`: backoff, which errors end it, and a server that restarts.
@Suite("Reconnecting client")
struct ReconnectTests {
    @Test("The wait doubles from the initial delay up to the cap, and its jitter spans the upper half")
    func backoffGrowsWithJitterAndCaps() {
        let backoff = ReconnectBackoff(initialDelay: .milliseconds(500), multiplier: 2, maximumDelay: .seconds(3))
        let full = (1...6).map { backoff.delay(afterFailures: $0, random: 1) }
        #expect(full == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3)])
        let least = (1...6).map { backoff.delay(afterFailures: $0, random: 0) }
        #expect(least == [.milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(1500), .milliseconds(1500), .milliseconds(1500)])
        #expect(backoff.delay(afterFailures: 2, random: 0.5) == .milliseconds(750))
    }

    @Test(
        "Retrying cannot fix a 4xx (but 408 and 429), a 3xx or a TLS failure; it can fix a 5xx, a refused connection, a timeout",
        arguments: [
            (WebSocketError.upgradeRefused(status: 401), false), (.upgradeRefused(status: 403), false), (.upgradeRefused(status: 404), false),
            (.upgradeRefused(status: 301), false), (.tlsFailed("certificate"), false), (.upgradeRefused(status: 408), true),
            (.upgradeRefused(status: 429), true), (.upgradeRefused(status: 503), true),
            (.handshakeFailed("the connection closed during the handshake"), true), (.timeout("handshake"), true),
            (.proxyRefused(status: 407), false), (.proxyRefused(status: 403), false), (.proxyRefused(status: 502), true),
        ])
    func retryable(error: WebSocketError, expected: Bool) {
        #expect(WebSocketConnector.isRetryable(error) == expected)
    }

    @Test("A proxy's 407 ends reconnecting at its first attempt; its 503 is retried", arguments: [(407, 1), (503, 3)])
    func proxyRefusals(status: Int, attempts: Int) async throws {
        let answer = "HTTP/1.1 \(status) No\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n"
        try await withScriptedPeer(.answerThenClose(answer)) { port in
            var configuration = WebSocketClientConfiguration.test()
            configuration.proxy = HTTPProxy(host: "127.0.0.1", port: port)
            let backoff = ReconnectBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(20), maximumAttempts: 3)
            let target = try #require(WebSocketURL("ws://127.0.0.1:1/echo"))
            let connections = WebSocketConnector.reconnecting(to: target, configuration: configuration, backoff: backoff) {
                _, _, _ in
            }
            var failed = 0
            do {
                for try await event in connections {
                    guard case .failed(let error, _) = event else {
                        Issue.record("connected through a proxy that refuses: \(event)")
                        return
                    }
                    #expect(error as? WebSocketError == .proxyRefused(status: status))
                    failed += 1
                }
                Issue.record("the sequence ended without an error")
            } catch {
                #expect(error as? WebSocketError == .proxyRefused(status: status))
            }
            #expect(failed + 1 == attempts)
        }
    }

    @Test("A port nobody listens on: failed attempts with growing waits, then the last error after maximumAttempts")
    func givesUpAfterMaximumAttempts() async throws {
        let port = try await Self.unusedPort()
        let backoff = ReconnectBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(40), maximumAttempts: 4)
        let connections = WebSocketConnector.reconnecting(to: WebSocketURL(url(port))!, configuration: .test(), backoff: backoff) { _, _, _ in }
        var waits: [Duration] = []
        await #expect(throws: (any Error).self) {
            for try await event in connections {
                guard case .failed(_, let wait) = event else {
                    Issue.record("connected to nobody: \(event)")
                    return
                }
                waits.append(wait)
            }
        }
        #expect(waits.count == 3)
        #expect(waits.allSatisfy { $0 >= .milliseconds(5) && $0 <= .milliseconds(40) })
    }

    @Test("A reconnecting client survives three server restarts, and stops at the 403 of the fourth")
    func survivesRestartsAndStopsAtRefusal() async throws {
        try await withTimeout(60, "restarts") {
            let generation = Locked(0)
            let refusing = Locked(false)
            var routes = WebSocketRoutes()
            routes.add(
                "/live",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    try await outbound.send(text: "generation \(generation.value)")
                    for try await message in inbound { try await outbound.send(message) }
                },
                accept: { _ in
                    refusing.value ? .reject(HandshakeRejection(status: 403, reason: "banned")) : .accept()
                })
            let seen = Locked<[String]>([])
            let (greetings, greeted) = AsyncStream.makeStream(of: String.self)
            let port = try await Self.unusedPort()
            let backoff = ReconnectBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
            let connections = WebSocketConnector.reconnecting(to: WebSocketURL(url(port, "/live"))!, configuration: .test(), backoff: backoff) {
                inbound, outbound, _ in
                var iterator = inbound.makeAsyncIterator()
                guard let first = try await iterator.next() else { return }
                try await outbound.send(text: "ping")
                let echo = try await iterator.next()
                seen.withLock { $0.append("\(String(buffer: first.data)) \(echo.map { String(buffer: $0.data) } ?? "-")") }
                greeted.yield(String(buffer: first.data))
                while try await iterator.next() != nil {}  // until the server goes
            }
            let client = Task {
                var closes: [WebSocketCloseCode?] = []
                do {
                    for try await event in connections {
                        if case .closed(let frame) = event { closes.append(frame?.code) }
                    }
                    return (closes, nil as WebSocketError?)
                } catch {
                    return (closes, error as? WebSocketError)
                }
            }
            var greetingIterator = greetings.makeAsyncIterator()
            for index in 1...4 {
                generation.withLock { $0 = index }
                if index == 4 { refusing.withLock { $0 = true } }
                let server = WebSocketServer(configuration: testConfiguration(routes) { $0.port = port })
                let running = Task { try await server.run() }
                if index < 4 {
                    #expect(await greetingIterator.next() == "generation \(index)")
                    running.cancel()  // a shutdown: 1001 to the client, which reconnects
                    _ = await running.result
                } else {
                    let (closes, error) = await client.value
                    running.cancel()
                    _ = await running.result
                    #expect(closes == [.goingAway, .goingAway, .goingAway])
                    #expect(error == .upgradeRefused(status: 403))
                }
            }
            #expect(seen.value == ["generation 1 ping", "generation 2 ping", "generation 3 ping"])
        }
    }

    /// A loopback port with nothing listening on it (bound once, then released).
    static func unusedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
