import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONRPC
import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardHummingbird
import Synchronization
import Testing

/// A Hummingbird app with a plain route and a Switchboard route on one port.
@Suite struct AdapterTests {
    enum User: WebSocketContextKey { typealias Value = String }

    static func app(handshakeTimeout: TimeAmount = .seconds(10)) -> some ApplicationProtocol {
        var routes = WebSocketRoutes()
        // Hooks on a store that never answers, one route per test that uses one (tests run in parallel).
        for (path, cancelled) in [("/slow", slowHooksCancelled), ("/flooded", floodedHooksCancelled)] {
            routes.add(path, handler: ClosureWebSocketHandler { _, _, _ in }) { _ in
                do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.set(cancelled.get() + 1) }
                return .accept()
            }
        }
        routes.add(
            "/rooms/{id}",
            handler: ClosureWebSocketHandler { inbound, outbound, context in
                for try await message in inbound {
                    try await outbound.send(
                        text: "\(context.values[User.self] ?? "?") in \(context.pathParameters["id"] ?? "?"): \(String(buffer: message.data))")
                }
            },
            accept: { upgrade in
                guard let token = upgrade.request.headers.single("Authorization"), token.hasPrefix("Bearer ") else {
                    return .reject(HandshakeRejection(status: 401, reason: "token", headers: ["WWW-Authenticate": "Bearer"]))
                }
                var values = WebSocketContextValues()
                values[User.self] = String(token.dropFirst(7))
                return .accept(values)
            })
        let router = Router()
        router.get("/hello") { _, _ in "hello" }
        return Application(
            router: router, server: .http1(switchboard: HostedWebSocketServer(routes: routes, handshakeTimeout: handshakeTimeout)),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test(
        "Plain HTTP goes to the app's router; a WebSocket on a Switchboard route runs its handler with the hook's identity and the path's parameters")
    func oneAppBothKinds() async throws {
        try await Self.app().test(.live) { client in
            try await client.execute(uri: "/hello", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "hello")
            }
            let port = client.port!
            let answer = Locked<String?>(nil)
            var configuration = WebSocketClientConfiguration()
            configuration.headers.add(name: "Authorization", value: "Bearer ann")
            let close = try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/rooms/lobby", configuration: configuration) {
                inbound, outbound, _ in
                try await outbound.send(text: "hi")
                var iterator = inbound.makeAsyncIterator()
                let message = try await iterator.next()
                answer.set(message.map { String(buffer: $0.data) })
            }
            #expect(answer.get() == "ann in lobby: hi")
            #expect(close?.code == .normalClosure)
        }
    }

    @Test("The accept hook's refusal reaches the client as its status, headers and body")
    func refusedUpgrade() async throws {
        try await Self.app().test(.live) { client in
            let request =
                "GET /rooms/lobby HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            let answer = try await Self.exchange(request, port: client.port!)
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
            #expect(answer.contains("WWW-Authenticate: Bearer\r\n"))
            #expect(answer.hasSuffix("\r\n\r\ntoken\n"))
        }
    }

    @Test("An accept hook that does not answer within the handshake timeout: 503, and the hook is cancelled")
    func slowHook() async throws {
        try await Self.app(handshakeTimeout: .milliseconds(300)).test(.live) { client in
            let request =
                "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            let answer = try await Self.exchange(request, port: client.port!)
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            for _ in 0..<100 where slowHooksCancelled.get() == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(slowHooksCancelled.get() == 1)
        }
    }

    @Test("A peer flooding behind its upgrade request while the hook runs is closed at maxPendingUpgradeBytes, not buffered")
    func floodBehindUpgrade() async throws {
        try await Self.app().test(.live) { client in
            let request =
                "GET /flooded HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            // 4 MiB behind the request; the hook never answers, so only the limit can end this
            // before the handshake timeout (10 s), which would answer 503.
            let flood = [ByteBuffer](repeating: ByteBuffer(repeating: 0x41, count: 64 * 1024), count: 64)
            let answer = try await Self.exchange(request, then: flood, port: client.port!)
            #expect(answer == "", "\(answer)")
            // Closed, the connection's hook is cancelled too.
            for _ in 0..<100 where floodedHooksCancelled.get() == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(floodedHooksCancelled.get() == 1)
        }
    }

    /// Sends `request` (then `more`, ignoring a failed write) over a fresh TCP connection and
    /// reads until the server closes.
    static func exchange(_ request: String, then more: [ByteBuffer] = [], port: Int) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            do { for chunk in more { try await outbound.write(chunk) } } catch {}  // the server may close first
            var answer = ""
            do { for try await chunk in inbound { answer += String(buffer: chunk) } } catch {}  // a reset ends it too
            return answer
        }
    }
}

/// The slow hook's cancellations (one test uses it).
let slowHooksCancelled = Locked(0)
/// The flooded route's hook cancellations.
let floodedHooksCancelled = Locked(0)

/// A value shared with a handler's task.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func get() -> Value { mutex.withLock { $0 } }
    func set(_ newValue: Value) { mutex.withLock { $0 = newValue } }
}
