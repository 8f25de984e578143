import Logging
import NIOCore
import ServiceLifecycle
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `WebSocketServer` in a swift-service-lifecycle `ServiceGroup`.
@Suite("WebSocketServer as a Service", .serialized)
struct ServiceTests {
    @Test("A ServiceGroup's graceful shutdown closes with 1001, and every message the client sent reaches the handler")
    func gracefulShutdownLosesNoMessage() async throws {
        try await withTimeout(30, "graceful shutdown") {
            let received = Locked<[Int]>([])
            var routes = WebSocketRoutes()
            routes.add(
                "/count",
                handler: ClosureWebSocketHandler { inbound, _, _ in
                    for try await message in inbound {
                        let count = received.withLock { received in
                            received.append(Int(String(buffer: message.data)) ?? -1)
                            return received.count
                        }
                        // A handler slower than its peer: its buffer fills while the close is under way.
                        if count.isMultiple(of: 20) { try await Task.sleep(for: .milliseconds(1)) }
                    }
                })
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let server = WebSocketServer(configuration: testConfiguration(routes))
            struct Listening: Service {
                let server: WebSocketServer
                let port: AsyncStream<Int>.Continuation
                func run() async throws { try await server.run { port.yield($0.port ?? 0) } }
            }
            let group = ServiceGroup(services: [Listening(server: server, port: portContinuation)], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let port = await ports.first { _ in true } ?? 0
                let sent = Locked(0)
                let closeSeen = Locked(false)
                let close = try await WebSocketConnector.connect(to: url(port, "/count"), configuration: .test()) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { client in
                        // Reads until the server's close arrives; then the client stops sending, and
                        // its handler's return answers the close behind what it sent.
                        client.addTask {
                            for try await _ in inbound {}
                            closeSeen.withLock { $0 = true }
                        }
                        client.addTask {
                            var next = 0
                            while !closeSeen.value {
                                do { try await outbound.send(text: "\(next)") } catch { return }
                                next += 1
                                sent.withLock { $0 = next }
                                if next == 200 { await group.triggerGracefulShutdown() }
                                if next.isMultiple(of: 50) { try await Task.sleep(for: .milliseconds(1)) }
                            }
                        }
                        try await client.waitForAll()
                    }
                }
                #expect(close?.code == .goingAway)
                try await tasks.waitForAll()  // the group ends once the server has
                // Every message the client's send accepted went out before its close answer, and the
                // server reads data until that answer: the handler got them all, in order.
                #expect(received.value == Array(0..<sent.value), "sent \(sent.value), received \(received.value.count)")
                #expect(sent.value >= 200)
            }
        }
    }
}
