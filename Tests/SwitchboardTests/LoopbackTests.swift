import NIOCore
import NIOPosix
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// WebSocketServer and WebSocketConnector over 127.0.0.1. Serialized: the timing
/// checks (heartbeats, timeouts, backpressure) share two cores.
@Suite("Loopback: WebSocketServer and WebSocketConnector", .serialized)
struct LoopbackTests {
    // MARK: Messages

    @Test("§5.6: text and binary messages are echoed; the client's return closes with 1000")
    func echo() async throws {
        try await withTimeout(20, "echo") {
            try await withServer(testConfiguration(echoRoutes())) { _, port in
                let received = Locked<[WebSocketMessage]>([])
                let close = try await WebSocketConnector.connect(to: url(port), configuration: .test()) { inbound, outbound, context in
                    #expect(context.role == .client)
                    #expect(context.subprotocol == nil)
                    var iterator = inbound.makeAsyncIterator()
                    for message in [WebSocketMessage.text("héllo"), .binary([0, 1, 2, 255]), .text(""), .binary([])] {
                        try await outbound.send(message)
                        let echoed = try await iterator.next()
                        received.withLock { $0.append(echoed ?? .text("<end>")) }
                    }
                }
                #expect(received.value == [.text("héllo"), .binary([0, 1, 2, 255]), .text(""), .binary([])])
                #expect(close?.code == .normalClosure)
            }
        }
    }

    @Test("IPv6 loopback: a server on ::1 and a client to ws://[::1]:port; the server sees the peer as [::1]:port")
    func ipv6Loopback() async throws {
        try await withTimeout(20, "echo over ::1") {
            let seen = Locked<(peer: String?, host: String?)>((nil, nil))
            var routes = WebSocketRoutes()
            routes.add(
                "/echo",
                handler: ClosureWebSocketHandler { inbound, outbound, context in
                    seen.withLock { $0 = (context.request.remoteAddress, context.request.headers.single("Host")) }
                    for try await message in inbound { try await outbound.send(message) }
                })
            let configuration = testConfiguration(routes) { $0.host = "::1" }
            try await withServer(configuration) { _, port in
                let echoed = Locked<WebSocketMessage?>(nil)
                let close = try await WebSocketConnector.connect(to: "ws://[::1]:\(port)/echo", configuration: .test()) { inbound, outbound, _ in
                    try await outbound.send(.text("over IPv6"))
                    var iterator = inbound.makeAsyncIterator()
                    let message = try await iterator.next()
                    echoed.withLock { $0 = message }
                }
                #expect(echoed.value == .text("over IPv6"))
                #expect(close?.code == .normalClosure)
                #expect(seen.value.host == "[::1]:\(port)")
                #expect(seen.value.peer?.hasPrefix("[::1]:") == true, "peer \(seen.value.peer ?? "nil")")
            }
        }
    }

    @Test(
        "A handler runs where handlerExecution says: on an event-loop thread (the default) or off every event loop",
        arguments: [WebSocketHandlerExecution.eventLoop, .globalExecutor])
    func handlerExecution(_ execution: WebSocketHandlerExecution) async throws {
        try await withTimeout(20, "handler execution") {
            let onLoop = execution == .eventLoop
            var routes = WebSocketRoutes()
            routes.add(
                "/where",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    for try await _ in inbound {
                        // Checked after a suspension: the task resumed on the executor it prefers.
                        let here = MultiThreadedEventLoopGroup.currentEventLoop != nil
                        try await outbound.send(text: here ? "loop" : "pool")
                    }
                })
            let connection = WebSocketConnectionConfiguration(handlerExecution: execution)
            try await withServer(testConfiguration(routes, connection: connection)) { _, port in
                let answers = Locked<[String]>([])
                var client = WebSocketClientConfiguration.test()
                client.connection.handlerExecution = execution
                try await WebSocketConnector.connect(to: url(port, "/where"), configuration: client) { inbound, outbound, _ in
                    var iterator = inbound.makeAsyncIterator()
                    for _ in 0..<3 {
                        try await outbound.send(text: "where?")
                        let server = try await iterator.next()?.text ?? "none"
                        let here = MultiThreadedEventLoopGroup.currentEventLoop != nil
                        answers.withLock { $0.append("\(server)/\(here ? "loop" : "pool")") }
                    }
                }
                let expected = onLoop ? "loop/loop" : "pool/pool"
                #expect(answers.value == Array(repeating: expected, count: 3))
            }
        }
    }

    @Test("§5.2: a 1 MiB message goes both ways, in one frame and in 16 KiB fragments", arguments: [nil, 16 * 1024])
    func oneMebibyte(fragment: Int?) async throws {
        try await withTimeout(60, "1 MiB echo") {
            try await withServer(testConfiguration(echoRoutes(), connection: .init(maxOutgoingFrameSize: fragment))) { _, port in
                var payload = ByteBuffer()
                for i in 0..<(1 << 20) { payload.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 9)) }
                let sent = payload
                var connection = WebSocketConnectionConfiguration(closeTimeout: .seconds(2))
                connection.maxOutgoingFrameSize = fragment
                let echoed = Locked<ByteBuffer?>(nil)
                try await WebSocketConnector.connect(to: url(port), configuration: .test(connection: connection)) { inbound, outbound, _ in
                    try await outbound.send(binary: sent)
                    var iterator = inbound.makeAsyncIterator()
                    let reply = try await iterator.next()
                    echoed.withLock { $0 = reply?.data }
                }
                #expect(echoed.value?.readableBytes == 1 << 20)
                #expect(echoed.value == sent)
            }
        }
    }

    @Test("§7.4.1: a message over the server's limit closes with 1009")
    func overLimit() async throws {
        try await withTimeout(20, "1009") {
            let limits = WebSocketLimits(maxFrameSize: 1000, maxMessageSize: 1000)
            try await withServer(testConfiguration(echoRoutes(), connection: .init(limits: limits))) { _, port in
                let close = try await WebSocketConnector.connect(to: url(port), configuration: .test()) { inbound, outbound, _ in
                    try await outbound.send(binary: ByteBuffer(repeating: 1, count: 1001))
                    for try await _ in inbound {}
                }
                #expect(close?.code == .messageTooBig)
            }
        }
    }

    @Test("§7.1.2: close codes and reasons travel both ways; a handler that throws closes with 1011")
    func closeCodes() async throws {
        try await withTimeout(20, "close codes") {
            var routes = WebSocketRoutes()
            routes.add(
                "/bye",
                handler: ClosureWebSocketHandler { _, outbound, _ in
                    try await outbound.close(WebSocketCloseCode(4001), reason: "server says bye")
                })
            struct Oops: Error {}
            routes.add("/throw", handler: ClosureWebSocketHandler { _, _, _ in throw Oops() })
            try await withServer(testConfiguration(routes)) { _, port in
                let bye = try await WebSocketConnector.connect(to: url(port, "/bye"), configuration: .test()) { inbound, _, _ in
                    for try await _ in inbound {}
                }
                #expect(bye == WebSocketCloseFrame(code: WebSocketCloseCode(4001), reason: "server says bye"))
                let thrown = try await WebSocketConnector.connect(to: url(port, "/throw"), configuration: .test()) { inbound, _, _ in
                    for try await _ in inbound {}
                }
                #expect(thrown?.code == .internalServerError)
            }
        }
    }

    // MARK: Subprotocols

    @Test("§1.9, §4.2.2: a subprotocol is negotiated end to end; both handlers see it")
    func subprotocolEndToEnd() async throws {
        try await withTimeout(20, "subprotocol") {
            var registry = SubprotocolRegistry()
            for token in ["chat.v2", "chat.v1"] {
                registry.register(token) { inbound, outbound, context in
                    try await outbound.send(text: "server chose \(context.subprotocol ?? "none")")
                    for try await _ in inbound {}
                }
            }
            var routes = WebSocketRoutes()
            routes.add("/chat", registry)
            try await withServer(testConfiguration(routes)) { _, port in
                let seen = Locked<[String]>([])
                try await WebSocketConnector.connect(to: url(port, "/chat"), configuration: .test(subprotocols: ["chat.v1", "chat.v2"])) {
                    inbound, _, context in
                    var iterator = inbound.makeAsyncIterator()
                    let text = try await iterator.next()?.text ?? "nothing"
                    seen.withLock { $0 = [context.subprotocol ?? "none", text] }
                }
                // Server preference: chat.v2 was registered first.
                #expect(seen.value == ["chat.v2", "server chose chat.v2"])

                // Nothing acceptable offered, and the route has no default handler: 400, the client fails.
                await #expect(throws: WebSocketError.self) {
                    try await WebSocketConnector.connect(to: url(port, "/chat"), configuration: .test(subprotocols: ["other"])) { _, _, _ in }
                }
            }
        }
    }

    @Test("§4.1 item 6: the client fails the connection when the server answers a subprotocol it did not offer")
    func unofferedSubprotocol() async throws {
        try await withTimeout(20, "unoffered subprotocol") {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            let port = try #require(listener.channel.localAddress?.port)
            await withThrowingTaskGroup(of: Void.self) { group in
                // A hand-written server that answers a correct 101 with a subprotocol nobody offered.
                group.addTask {
                    try await listener.executeThenClose { connections in
                        for try await connection in connections {
                            try await connection.executeThenClose { inbound, outbound in
                                let raw = RawConnection(inbound, outbound, role: .server)
                                let head = try await raw.readHead() ?? ""
                                let key =
                                    head.split(separator: "\r\n")
                                    .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                                    .map { $0.dropFirst("sec-websocket-key:".count).trimmingHTTPWhitespace() } ?? ""
                                try await raw.send(
                                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                        + "Sec-WebSocket-Accept: \(WebSocketServerHandshake.acceptValue(forKey: key))\r\n"
                                        + "Sec-WebSocket-Protocol: evil.v1\r\n\r\n")
                                _ = try? await raw.readToEnd()
                            }
                            return
                        }
                    }
                }
                let ran = Locked(false)
                await #expect {
                    try await WebSocketConnector.connect(to: url(port, "/"), configuration: .test(subprotocols: ["good.v1"])) { _, _, _ in
                        ran.withLock { $0 = true }
                    }
                } throws: { error in
                    guard case WebSocketError.handshakeFailed(let why) = error else { return false }
                    return why.contains("evil.v1")
                }
                #expect(!ran.value, "the handler never runs on a failed handshake")
                group.cancelAll()
                _ = try? await group.waitForAll()
            }
        }
    }

    // MARK: Shutdown, heartbeats and timeouts

    @Test("§7.4.1: graceful shutdown sends 1001 to a connected client, then stops accepting")
    func gracefulShutdown() async throws {
        try await withTimeout(20, "graceful shutdown") {
            var routes = WebSocketRoutes()
            routes.add("/wait", handler: ClosureWebSocketHandler { inbound, _, _ in for try await _ in inbound {} })
            try await withServer(testConfiguration(routes)) { server, port in
                let (connected, signal) = AsyncStream.makeStream(of: Void.self)
                let client = Task {
                    try await WebSocketConnector.connect(to: url(port, "/wait"), configuration: .test()) { inbound, _, _ in
                        signal.yield()
                        for try await _ in inbound {}
                    }
                }
                var iterator = connected.makeAsyncIterator()
                await iterator.next()
                server.shutdown()
                let close = try await client.value
                #expect(close?.code == .goingAway)
                await #expect(throws: (any Error).self) {
                    try await WebSocketConnector.connect(to: url(port, "/wait"), configuration: .test()) { _, _, _ in }
                }
            }
        }
    }

    @Test("§5.5.2: heartbeat pings are answered automatically; the connection outlives the ping timeout")
    func heartbeatAnswered() async throws {
        try await withTimeout(20, "heartbeat answered") {
            // Pings every 100 ms, each answered within 1 s, for 1.5 s: over a dozen pings, all answered.
            let connection = WebSocketConnectionConfiguration(pingInterval: .milliseconds(100), pingTimeout: .seconds(1))
            try await withServer(testConfiguration(echoRoutes(), connection: connection)) { _, port in
                let reply = Locked<String?>(nil)
                let close = try await WebSocketConnector.connect(to: url(port), configuration: .test()) { inbound, outbound, _ in
                    try await Task.sleep(for: .milliseconds(1500))
                    try await outbound.send(text: "still here")
                    var iterator = inbound.makeAsyncIterator()
                    let text = try await iterator.next()?.text
                    reply.withLock { $0 = text }
                }
                #expect(reply.value == "still here")
                #expect(close?.code == .normalClosure)
            }
        }
    }

    @Test("§5.5.2: a peer that never answers pings is closed with 1011 after the ping timeout")
    func heartbeatTimeout() async throws {
        try await withTimeout(20, "heartbeat timeout") {
            let connection = WebSocketConnectionConfiguration(pingInterval: .milliseconds(200), pingTimeout: .milliseconds(300))
            try await withServer(testConfiguration(echoRoutes(), connection: connection)) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest())
                    #expect(status(of: try await raw.readHead()) == 101)
                    let ping = try await raw.readFrame()
                    #expect(ping?.opcode == .ping)
                    let pingedAt = ContinuousClock.now
                    // No pong. The next frame must be the close.
                    let close = try await raw.readFrame()
                    #expect(closeCode(of: close) == 1011)
                    #expect(ContinuousClock.now - pingedAt >= .milliseconds(250))
                }
            }
        }
    }

    @Test("§4.2: a connection that sends no handshake is closed after the handshake timeout")
    func handshakeTimeout() async throws {
        try await withTimeout(20, "handshake timeout") {
            let configuration = testConfiguration(echoRoutes()) { $0.handshakeTimeout = .milliseconds(300) }
            try await withServer(configuration) { _, port in
                try await withRawClient(port: port) { raw in
                    let start = ContinuousClock.now
                    let bytes = try await raw.readToEnd()
                    #expect(bytes.isEmpty)
                    #expect(ContinuousClock.now - start >= .milliseconds(250))
                    #expect(ContinuousClock.now - start < .seconds(5))
                }
            }
        }
    }

    @Test(
        "A burst of clients is served whatever acceptsPerWakeup is (0 counts as 1; 1 and 64 batch differently)",
        arguments: [0, 1, 64])
    func acceptsPerWakeup(_ accepts: Int) async throws {
        try await withTimeout(30, "a burst of 48 clients with acceptsPerWakeup \(accepts)") {
            let configuration = testConfiguration(echoRoutes()) { $0.acceptsPerWakeup = accepts }
            try await withServer(configuration) { _, port in
                let echoed = Locked(0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<48 {
                        group.addTask {
                            try await WebSocketConnector.connect(to: url(port), configuration: .test()) { inbound, outbound, _ in
                                try await outbound.send(.text("client \(client)"))
                                var iterator = inbound.makeAsyncIterator()
                                if try await iterator.next() == .text("client \(client)") { echoed.withLock { $0 += 1 } }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(echoed.value == 48)
            }
        }
    }

    @Test("RFC 6585 §5: a request head over maxHandshakeSize is answered 431")
    func oversizedHead() async throws {
        try await withTimeout(20, "431") {
            let configuration = testConfiguration(echoRoutes()) { $0.maxHandshakeSize = 1024 }
            try await withServer(configuration) { _, port in
                try await withRawClient(port: port) { raw in
                    // About 1.5 KiB: over the limit, sent in one write.
                    try await raw.send(handshakeRequest(extra: "X-Filler: \(String(repeating: "a", count: 1300))\r\n"))
                    #expect(status(of: try await raw.readHead()) == 431)
                }
                // A head within the limit is still fine.
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest(extra: "X-Filler: \(String(repeating: "a", count: 100))\r\n"))
                    #expect(status(of: try await raw.readHead()) == 101)
                }
            }
        }
    }

    @Test("RFC 9110 §15.5.22: plain HTTP on a WebSocket route gets 426; an unknown path 404; the HTTP hook serves pages")
    func plainHTTP() async throws {
        try await withTimeout(20, "plain HTTP") {
            let configuration = testConfiguration(echoRoutes()) { configuration in
                configuration.httpHandler = { request in request.path == "/health" ? PlainHTTPResponse(status: 200, body: "ok\n") : nil }
            }
            try await withServer(configuration) { _, port in
                for (path, expected) in [("/echo", 426), ("/nowhere", 404), ("/health", 200)] {
                    try await withRawClient(port: port) { raw in
                        try await raw.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        let head = try await raw.readHead()
                        #expect(status(of: head) == expected, "\(path)")
                        if expected == 426 { #expect(head?.lowercased().contains("upgrade: websocket") == true) }
                    }
                }
            }
        }
    }

    @Test("§5.1, §7.1.7: a client frame that is not masked makes the server close with 1002")
    func unmaskedFrameFromClient() async throws {
        try await withTimeout(20, "1002") {
            try await withServer(testConfiguration(echoRoutes())) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(handshakeRequest())
                    #expect(status(of: try await raw.readHead()) == 101)
                    try await raw.send([0x81, 0x02, 0x68, 0x69])  // unmasked "hi"
                    #expect(closeCode(of: try await raw.readFrame()) == 1002)
                    #expect(try await raw.readFrame() == nil, "and drops TCP")
                }
            }
        }
    }

    @Test("§5.4, §5.5.2: a raw client's fragments and ping reach the handler and get a pong")
    func rawFragmentsAndPing() async throws {
        try await withTimeout(20, "raw fragments") {
            try await withServer(testConfiguration(echoRoutes())) { _, port in
                try await withRawClient(port: port) { raw in
                    // The first frame travels in the same write as the request (the server must keep it).
                    try await raw.send(Array(handshakeRequest().utf8) + maskedFrame(.text, Array("Hel".utf8), fin: false))
                    #expect(status(of: try await raw.readHead()) == 101)
                    try await raw.send(maskedFrame(.ping, [7, 7]) + maskedFrame(.continuation, Array("lo".utf8)))
                    let pong = try await raw.readFrame()
                    #expect(pong?.opcode == .pong && pong?.payload == ByteBuffer(bytes: [7, 7]))
                    let echoed = try await raw.readFrame()
                    #expect(echoed?.opcode == .text && echoed.map { String(buffer: $0.payload) } == "Hello")
                    try await raw.send(maskedFrame(.close, [0x03, 0xE8]))
                    #expect(closeCode(of: try await raw.readFrame()) == 1000)
                }
            }
        }
    }

    @Test(
        "A peer that drops TCP without a close frame makes the handler's loop throw; after a close it ends without error",
        arguments: [false, true])
    func droppedConnectionThrows(sendsClose: Bool) async throws {
        let outcome = Locked<String?>(nil)
        var routes = WebSocketRoutes()
        routes.add(
            "/watch",
            handler: ClosureWebSocketHandler { inbound, _, _ in
                var messages = 0
                do {
                    for try await _ in inbound { messages += 1 }
                    outcome.withLock { $0 = "ended after \(messages)" }
                } catch {
                    outcome.withLock { $0 = "threw \(error) after \(messages)" }
                }
            })
        let configuration = testConfiguration(routes)
        try await withTimeout(20, "dropped connection") {
            try await withServer(configuration) { _, port in
                try await withRawClient(port: port) { raw in
                    try await raw.send(Array(handshakeRequest("/watch").utf8) + maskedFrame(.text, Array("one".utf8)))
                    #expect(status(of: try await raw.readHead()) == 101)
                    if sendsClose {
                        try await raw.send(maskedFrame(.close, [0x03, 0xE8]))
                        #expect(closeCode(of: try await raw.readFrame()) == 1000)
                    }
                }  // the raw connection's TCP closes here
                while outcome.value == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
        }
        let expected = sendsClose ? "ended after 1" : "threw \(WebSocketError.connectionClosed) after 1"
        #expect(outcome.value == expected)
    }

    @Test("A client that resets right behind its request leaves nothing behind: every handler that started ends, and the server stops")
    func resetBehindRequest() async throws {
        let counts = Locked((started: 0, ended: 0))
        var routes = WebSocketRoutes()
        routes.add(
            "/watch",
            handler: ClosureWebSocketHandler { inbound, _, _ in
                counts.withLock { $0.started += 1 }
                defer { counts.withLock { $0.ended += 1 } }
                for try await _ in inbound {}
            })
        let configuration = testConfiguration(routes)
        try await withTimeout(30, "the server stops after clients reset mid-handshake") {
            try await withServer(configuration) { _, port in
                // The reset often reaches the server before it has written its 101: that write then fails
                // and the channel is closed while the handshake is being answered.
                for _ in 0..<200 {
                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: port).get()
                    try await (channel as! any SocketOptionProvider).setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                    try await channel.writeAndFlush(ByteBuffer(string: handshakeRequest("/watch")))
                    try await channel.close()
                }
                for _ in 0..<500 where counts.value.started != counts.value.ended { try await Task.sleep(for: .milliseconds(10)) }
                #expect(counts.value.started == counts.value.ended, "handlers still waiting on a closed connection")
            }
        }
    }

    // MARK: Backpressure

    @Test("Backpressure: a handler that never reads makes the client's sends suspend; no unbounded queue grows")
    func backpressure() async throws {
        let mebibyte = 1 << 20
        // The producer stops by itself after `cap` messages, so that if sends never
        // suspend the test fails without queueing gigabytes on a shared machine.
        let cap = 128
        var routes = WebSocketRoutes()
        routes.add(
            "/sink",
            handler: ClosureWebSocketHandler { _, _, _ in
                try await Task.sleep(for: .seconds(60))  // never reads; cancelled when the server stops
            })
        let configuration = testConfiguration(routes)
        let sent = Locked(0)
        let (counts, client) = try await withTimeout(40, "backpressure") {
            try await withServer(configuration) { _, port in
                let client = Task {
                    try await WebSocketConnector.connect(to: url(port, "/sink"), configuration: .test(connection: .init(closeTimeout: .seconds(1)))) {
                        _, outbound, _ in
                        let message = WebSocketMessage.binary(ByteBuffer(repeating: 0x61, count: mebibyte))
                        while sent.value < cap {
                            try await outbound.send(message)
                            sent.withLock { $0 += 1 }
                        }
                        try await Task.sleep(for: .seconds(60))
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let after2s = sent.value
                try await Task.sleep(for: .seconds(1))
                let after3s = sent.value
                client.cancel()
                return ((after2s, after3s), client)
            }
        }
        // The server has stopped and dropped the connection: the client ends.
        _ = try? await withTimeout(10, "client ends after the server stopped") { try await client.value }
        // The server buffers 16 messages for its handler, then stops reading; TCP buffers hold a few more.
        #expect(counts.0 >= 1, "some messages went through")
        #expect(counts.0 < 64, "\(counts.0) MiB of sends completed in 2 s against a peer that does not read (cap \(cap))")
        #expect(counts.1 == counts.0, "sends stayed suspended: \(counts.0) MiB after 2 s, \(counts.1) MiB after 3 s")
    }

    @Test("Backpressure: a server handler that never reads makes the server stop reading its socket")
    func inboundBackpressure() async throws {
        var routes = WebSocketRoutes()
        routes.add("/sink", handler: ClosureWebSocketHandler { _, _, _ in try await Task.sleep(for: .seconds(60)) })
        let configuration = testConfiguration(routes)
        let counts = try await withTimeout(40, "inbound backpressure") {
            try await withServer(configuration) { _, port in
                // A bare NIO channel: each write completes only once the kernel took it.
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                let written = Locked(0)
                let writer = Task {
                    try await channel.writeAndFlush(ByteBuffer(string: handshakeRequest("/sink"))).get()
                    let frame = ByteBuffer(bytes: maskedFrame(.binary, [UInt8](repeating: 0x62, count: 1 << 20)))
                    while written.value < 128 {
                        try await channel.writeAndFlush(frame).get()
                        written.withLock { $0 += 1 }
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let after2s = written.value
                try await Task.sleep(for: .seconds(1))
                let after3s = written.value
                writer.cancel()
                try? await channel.close().get()
                return (after2s, after3s)
            }
        }
        #expect(counts.0 >= 1)
        #expect(counts.0 < 64, "\(counts.0) MiB written to a server whose handler does not read")
        #expect(counts.1 == counts.0, "the server stopped reading: \(counts.0) MiB after 2 s, \(counts.1) MiB after 3 s")
    }
}
