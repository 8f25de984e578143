import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardVapor
import Synchronization
import Testing
import Vapor

/// A Vapor app with plain routes and Switchboard routes on one port, on a real socket.
@Suite struct AdapterTests {
    struct User: Authenticatable { var name: String }

    /// Logs in the bearer token's name, as an app's own authenticator would.
    struct BearerLogin: AsyncBearerAuthenticator {
        func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
            request.auth.login(User(name: bearer.token))
        }
    }

    /// Runs `body` against a started app: `/hello` from Vapor, `/rooms/{id}` from Switchboard
    /// behind Vapor's authenticator and a hook that wants a user.
    static func withApp(_ body: (Application, Int) async throws -> Void) async throws {
        var routes = WebSocketRoutes()
        routes.add(
            "/rooms/{id}",
            handler: ClosureWebSocketHandler { inbound, outbound, context in
                let request = context.values[VaporRequest.self]
                let user = request?.auth.get(User.self)?.name ?? "?"
                let vaporParameter = request?.parameters.get("id") ?? "?"
                for try await message in inbound {
                    try await outbound.send(
                        text: "\(user) in \(context.pathParameters["id"] ?? "?")/\(vaporParameter): \(String(buffer: message.data))")
                }
            },
            accept: { upgrade in
                guard upgrade.values[VaporRequest.self]?.auth.has(User.self) == true else {
                    return .reject(HandshakeRejection(status: 401, reason: "token", headers: ["WWW-Authenticate": "Bearer"]))
                }
                return .accept()
            })
        let app = try await Application.make(.testing)
        app.get("hello") { _ in "hello" }
        app.grouped(BearerLogin()).switchboard(HostedWebSocketServer(routes: routes))
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        do {
            let port = try #require(app.http.server.shared.localAddress?.port)
            try await body(app, port)
        } catch {
            await app.server.shutdown()
            try await app.asyncShutdown()
            throw error
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    @Test(
        "Plain HTTP goes to Vapor's router; a WebSocket on a Switchboard route runs its handler with Vapor's user and the path's parameters"
    )
    func oneAppBothKinds() async throws {
        try await Self.withApp { _, port in
            let hello = try await Self.exchange("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
            #expect(hello.hasPrefix("HTTP/1.1 200"), "\(hello)")
            #expect(hello.hasSuffix("\r\n\r\nhello"))

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
            #expect(answer.get() == "ann in lobby/lobby: hi")
            #expect(close?.code == .normalClosure)
        }
    }

    @Test("The accept hook's refusal reaches the client as its status, headers and body; plain GET on the route is 426")
    func refusals() async throws {
        try await Self.withApp { _, port in
            let upgrade =
                "GET /rooms/lobby HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            let refused = try await Self.exchange(upgrade, port: port)
            #expect(refused.hasPrefix("HTTP/1.1 401"), "\(refused)")
            #expect(refused.lowercased().contains("www-authenticate: bearer\r\n"), "\(refused)")
            #expect(refused.hasSuffix("\r\n\r\ntoken\n"))

            let plain = try await Self.exchange("GET /rooms/lobby HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
            #expect(plain.hasPrefix("HTTP/1.1 426"), "\(plain)")
            #expect(plain.lowercased().contains("upgrade: websocket\r\n"), "\(plain)")
        }
    }

    @Test("Vapor's shutdown closes an upgraded connection with 1001 after the messages the handler accepted")
    func shutdownGoesAway() async throws {
        try await Self.withApp { app, port in
            let replies = Locked(0)
            var configuration = WebSocketClientConfiguration()
            configuration.headers.add(name: "Authorization", value: "Bearer bob")
            let started = Locked(false)
            async let close = WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/rooms/a", configuration: configuration) {
                inbound, outbound, _ in
                for index in 0..<10 { try await outbound.send(text: "\(index)") }
                for try await _ in inbound {
                    replies.set(replies.get() + 1)
                    if replies.get() == 10 { started.set(true) }
                }
            }
            for _ in 0..<500 where !started.get() { try await Task.sleep(for: .milliseconds(10)) }
            #expect(started.get())
            await app.server.shutdown()
            let code = try await close?.code
            #expect(code == .goingAway)
            #expect(replies.get() == 10)
        }
    }

    /// Sends `request` over a fresh TCP connection and reads one response: its head and as
    /// many body bytes as its `Content-Length` says (Vapor keeps the connection open).
    static func exchange(_ request: String, port: Int) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var answer = ""
            for try await chunk in inbound {
                answer += String(buffer: chunk)
                guard let headEnd = answer.range(of: "\r\n\r\n") else { continue }
                let length =
                    answer[..<headEnd.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if answer.utf8.count - answer[..<headEnd.upperBound].utf8.count >= length { break }
            }
            return answer
        }
    }
}

/// A value shared with a handler's task.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func get() -> Value { mutex.withLock { $0 } }
    func set(_ newValue: Value) { mutex.withLock { $0 = newValue } }
}
