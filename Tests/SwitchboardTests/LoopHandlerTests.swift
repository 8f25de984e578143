import Logging
import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Echoes, except `bye`, which closes with 4000; tells the route it was called on.
private struct LoopEchoUntilBye: WebSocketLoopHandler {
    func received(_ message: WebSocketMessage, on connection: WebSocketLoopConnection) {
        switch message.text {
        case "bye": connection.close(WebSocketCloseCode(4000), reason: "done")
        case "path?": connection.send(text: connection.context.request.path)
        default: connection.send(message)
        }
    }
}

/// ``WebSocketLoopHandler``: called in the read on the event loop, with the same protocol
/// behaviour as an async handler (issue 20).
@Suite("WebSocketLoopHandler: messages answered on the event loop", .serialized)
struct LoopHandlerTests {
    func routes() -> WebSocketRoutes {
        var routes = WebSocketRoutes()
        routes.add("/loop", handler: LoopEchoUntilBye())
        return routes
    }

    @Test("Echoes in order, sees its context; the client's close is answered with 1000; the handler's close sends its code")
    func echoAndClose() async throws {
        try await withTimeout(20, "loop echo") {
            try await withServer(testConfiguration(routes())) { _, port in
                let messages: [WebSocketMessage] = [
                    .text("héllo"), .binary([0, 1, 2, 255]), .text(""), .binary(ByteBuffer(repeating: 7, count: 200_000)),
                ]
                let echoed = Locked<[WebSocketMessage]>([])
                let close = try await WebSocketConnector.connect(to: url(port, "/loop"), configuration: .test()) { inbound, outbound, _ in
                    for message in messages { try await outbound.send(message) }  // pipelined
                    try await outbound.send(text: "path?")
                    var iterator = inbound.makeAsyncIterator()
                    for _ in 0...messages.count {
                        let message = try await iterator.next()
                        echoed.withLock { $0.append(message ?? .text("<end>")) }
                    }
                }
                #expect(echoed.value == messages + [.text("/loop")])
                #expect(close?.code == .normalClosure)

                let byeClose = try await WebSocketConnector.connect(to: url(port, "/loop"), configuration: .test()) { inbound, outbound, _ in
                    try await outbound.send(text: "bye")
                    try await outbound.send(text: "after bye")  // not echoed: the handler closed
                    for try await message in inbound { Issue.record("a message after the handler's close: \(message)") }
                }
                #expect(byeClose?.code?.rawValue == 4000)
                #expect(byeClose?.reason == "done")
            }
        }
    }

    @Test("A protocol error (an unmasked frame) closes with 1002; the handler is not called again")
    func protocolError() async throws {
        try await withTimeout(20, "loop protocol error") {
            try await withServer(testConfiguration(routes())) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest("/loop"))
                    #expect(status(of: try await raw.readHead()) == 101)
                    try await raw.send(maskedFrame(.text, Array("one".utf8)))
                    #expect(try await raw.readFrame()?.payload == ByteBuffer(string: "one"))
                    try await raw.send([0x81, 0x03] + Array("two".utf8))  // a client's frame must be masked (§5.1)
                    #expect(closeCode(of: try await raw.readFrame()) == 1002)
                }
            }
        }
    }

    @Test("A peer that sends and never reads: the server stops reading once its answers wait for the socket")
    func peerThatDoesNotRead() async throws {
        try await withTimeout(40, "loop backpressure") {
            try await withServer(testConfiguration(routes())) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest("/loop"))
                    #expect(status(of: try await raw.readHead()) == 101)
                    let frame = maskedFrame(.binary, [UInt8](repeating: 0x61, count: 1 << 20))
                    let written = Locked(0)
                    // Writes complete once the kernel takes them: with the server reading on while its
                    // echoes pile up, all 256 MiB would go through; held back, a few MiB do.
                    // Only this task writes while the test's own task sleeps.
                    nonisolated(unsafe) let connection = raw
                    let writer = Task {
                        for _ in 0..<256 {
                            try await connection.send(frame)
                            written.withLock { $0 += 1 }
                        }
                    }
                    try await Task.sleep(for: .seconds(2))
                    let after2s = written.value
                    try await Task.sleep(for: .seconds(1))
                    writer.cancel()
                    #expect(after2s < 64, "\(after2s) MiB taken from a peer that reads none of its echoes")
                    #expect(written.value == after2s, "writes went on: \(after2s) then \(written.value) MiB")
                }
            }
        }
    }

    @Test("Without an event loop (the async fallback): the same sends, in order, and the close ends the loop")
    func asyncFallback() async throws {
        final class Recorder: WebSocketOutboundWriter, @unchecked Sendable {
            let log = Locked<[String]>([])
            func write(_ message: WebSocketMessage) async throws { log.withLock { $0.append(message.text ?? "binary") } }
            func ping(_ payload: ByteBuffer) async throws {}
            func close(code: WebSocketCloseCode, reason: String) async throws { log.withLock { $0.append("close \(code.rawValue) \(reason)") } }
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WebSocketMessage.self)
        for text in ["a", "path?", "bye", "never"] { continuation.yield(.text(text)) }
        continuation.finish()
        let recorder = Recorder()
        let request = HandshakeRequest(method: "GET", target: "/mux/channel", headers: [:])
        let context = WebSocketContext(request: request, subprotocol: nil, extensions: [], role: .server, logger: .init(label: "test"))
        try await LoopEchoUntilBye().handle(WebSocketInbound(stream), WebSocketOutbound(recorder), context: context)
        #expect(recorder.log.value == ["a", "/mux/channel", "close 4000 done"])
    }

    @Test("Shutdown: a loop connection (no task) gets 1001, and run() returns only once it is closed")
    func shutdownWaitsForLoopConnections() async throws {
        try await withTimeout(20, "loop shutdown") {
            let server = WebSocketServer(configuration: testConfiguration(routes()))
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let stopped = Locked(false)
            let run = Task {
                try await server.run { portContinuation.yield($0.port ?? 0) }
                stopped.withLock { $0 = true }
            }
            var portIterator = ports.makeAsyncIterator()
            let port = try #require(await portIterator.next())
            try await withRawClient(port: port) { raw in
                try await raw.send(handshakeRequest("/loop"))
                #expect(status(of: try await raw.readHead()) == 101)
                server.shutdown()
                #expect(closeCode(of: try await raw.readFrame()) == 1001)
                // This peer does not answer the close: the connection stays open until the
                // shutdown timeout (1 s here), and so does the server's run.
                try await Task.sleep(for: .milliseconds(300))
                #expect(!stopped.value, "run() returned while a connection was open")
                #expect(try await raw.readToEnd().isEmpty)  // the server drops it after the timeout
            }
            try await run.value
            #expect(stopped.value)
        }
    }
}
