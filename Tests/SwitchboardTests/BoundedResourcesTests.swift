import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// What a peer that reads slowly, or not at all, can make a connection hold: bounded, and
/// a live peer is not mistaken for a dead one.
@Suite("Bounded resources: peers that do not read")
struct BoundedResourcesTests {
    /// A server connection on an `EmbeddedChannel` whose handler never reads, behind a counter of the reads it asks for.
    static func embeddedServerConnection(
        _ configuration: WebSocketConnectionConfiguration
    ) throws
        -> (channel: EmbeddedChannel, reads: ReadCounter, connection: UpgradedConnection)
    {
        let channel = EmbeddedChannel()
        let reads = ReadCounter()
        try channel.pipeline.syncOperations.addHandler(reads)
        let engine = WebSocketEngine(role: .server, limits: .default, extensions: [], allocator: channel.allocator)
        let request = HandshakeRequest(method: "GET", target: "/", headers: [:], remoteAddress: nil, majorVersion: 1, minorVersion: 1)
        let context = WebSocketContext(request: request, subprotocol: nil, extensions: [], role: .server, logger: .init(label: "test"))
        let connection = try UpgradedConnection.install(
            on: channel, engine: engine, configuration: configuration, context: context,
            handler: ClosureWebSocketHandler { _, _, _ in }, position: .last, executor: nil)
        return (channel, reads, connection)
    }

    @Test("A peer that pings without reading: once its pongs wait for the socket to take writes, no more is read until it does")
    func pingsWithoutReading() throws {
        let (channel, reads, _) = try Self.embeddedServerConnection(.init(pingInterval: nil))
        channel.read()
        #expect(reads.count == 1)

        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try channel.writeInbound(ByteBuffer(bytes: maskedFrame(.binary, [1, 2, 3])))
        channel.read()
        #expect(reads.count == 2, "a read that made no answers does not hold the next (the application's sends hold data back)")

        try channel.writeInbound(ByteBuffer(bytes: (0..<10).flatMap { _ in maskedFrame(.ping, Array(repeating: 7, count: 125)) }))
        channel.read()
        channel.read()
        #expect(reads.count == 2, "no read while the pongs wait for room")
        var answered = 0
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) { answered += bytes.readableBytes }
        #expect(answered == 10 * 127, "every ping read is answered")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 3, "the held read goes out once the socket takes writes again")
        _ = try? channel.finish()
    }

    @Test("Bytes read past a full reader's buffer wait undecoded, and are decoded (pings answered) once the reader takes more")
    func readPastFullBufferWaitsUndecoded() async throws {
        let (channel, _, connection) = try Self.embeddedServerConnection(
            WebSocketConnectionConfiguration(pingInterval: nil, inboundBufferedMessages: 16, inboundBufferedBytes: 1000))
        channel.read()
        // One read: ten 600-byte messages and a ping at the end.
        let frames = (0..<10).flatMap { _ in maskedFrame(.binary, Array(repeating: 9, count: 600)) } + maskedFrame(.ping, [1, 2])
        try channel.writeInbound(ByteBuffer(bytes: frames))
        #expect(connection.inbound.buffered == (messages: 2, bytes: 1200), "decoding stops once the reader's buffer is full")
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "the ping waits with the rest, undecoded")
        var received = 0
        while received < 10 {
            _ = try #require(try await connection.inbound.next())
            received += 1
            channel.embeddedEventLoop.run()  // the reader's demand resumes decoding on the loop
        }
        #expect(connection.inbound.buffered.messages == 0)
        let pong = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(pong.readableBytesView) == [0x8A, 2, 1, 2], "the ping is answered once decoding reaches it")
        _ = try? channel.finish()
    }

    @Test("One turn of the event loop decodes at most decodedBytesPerTurn; the rest waits for a later turn, and so does the next read")
    func decodingBudgetPerTurn() throws {
        let (channel, reads, connection) = try Self.embeddedServerConnection(
            WebSocketConnectionConfiguration(pingInterval: nil, decodedBytesPerTurn: 1000))
        channel.read()
        #expect(reads.count == 1)
        try channel.writeInbound(ByteBuffer(bytes: (0..<10).flatMap { _ in maskedFrame(.binary, Array(repeating: 9, count: 600)) }))
        #expect(connection.inbound.buffered.messages == 2, "1200 bytes decoded: the turn's budget is spent")
        channel.read()
        #expect(reads.count == 1, "no read while bytes already read wait to be parsed")
        channel.embeddedEventLoop.run()
        #expect(connection.inbound.buffered.messages == 10, "later turns decode the rest")
        #expect(reads.count == 2, "then the held read goes out")
        _ = try? channel.finish()
    }

    @Test("Heartbeat: a live peer whose messages wait behind a slow handler is not closed with 1011")
    func keepaliveWhileReadsAreHeld() async throws {
        try await withTimeout(30, "keepalive with held reads") {
            var routes = WebSocketRoutes()
            routes.add(
                "/slow",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    // Reads nothing for several ping timeouts: the 16-message buffer fills and reads are held,
                    // with the client's pongs queued behind its messages.
                    try await Task.sleep(for: .seconds(2))
                    var count = 0
                    for try await _ in inbound {
                        count += 1
                        if count == 40 { break }
                    }
                    try await outbound.send(.text("got \(count)"))
                })
            let connection = WebSocketConnectionConfiguration(pingInterval: .milliseconds(200), pingTimeout: .milliseconds(300))
            try await withServer(testConfiguration(routes, connection: connection)) { _, port in
                let reply = Locked<WebSocketMessage?>(nil)
                let close = try await WebSocketConnector.connect(to: url(port, "/slow"), configuration: .test()) { inbound, outbound, _ in
                    for _ in 0..<40 { try await outbound.send(.binary(ByteBuffer(repeating: 1, count: 16 << 10))) }
                    var iterator = inbound.makeAsyncIterator()
                    let message = try await iterator.next()
                    reply.withLock { $0 = message }
                }
                #expect(reply.value == .text("got 40"))
                #expect(close?.code == .normalClosure)
            }
        }
    }

    @Test(
        "After its close is sent, a connection whose handler is not reading keeps what the peer still sends up to twice its buffer, and drops the rest"
    )
    func messagesAfterOurClose() async throws {
        try await withTimeout(30, "messages after our close") {
            let received = Locked(-1)
            var routes = WebSocketRoutes()
            routes.add(
                "/closing",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    try await outbound.close(.goingAway, reason: "bye")
                    try await Task.sleep(for: .seconds(1))
                    var count = 0
                    for try await _ in inbound { count += 1 }
                    received.withLock { $0 = count }
                })
            let connection = WebSocketConnectionConfiguration(closeTimeout: .seconds(3), inboundBufferedMessages: 16, inboundBufferedBytes: 16 << 10)
            try await withServer(testConfiguration(routes, connection: connection)) { _, port in
                let sent = Locked(0)
                _ = try await WebSocketConnector.connect(to: url(port, "/closing"), configuration: .test()) { _, outbound, _ in
                    // The server's close has come (or comes now); sending is allowed until this handler returns.
                    for _ in 0..<200 {
                        guard (try? await outbound.send(.binary(ByteBuffer(repeating: 2, count: 1024)))) != nil else { break }
                        sent.withLock { $0 += 1 }
                    }
                }
                for _ in 0..<300 where received.value < 0 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(sent.value > 100, "the client sent past the server's buffer")
                // Twice the buffer's 16 KiB, at 1,088 bytes a message (payload and overhead): 30; plus
                // what one read held before the close was under way: a read takes at most 64 KiB, 63
                // of these messages. Before any bound, every message sent was kept.
                #expect((0...30 + 63).contains(received.value), "kept \(received.value) of \(sent.value) messages")
            }
        }
    }

    @Test("A plain HTTP answer that the client does not read is dropped after the handshake timeout")
    func unreadHTTPAnswer() async throws {
        try await withTimeout(30, "unread HTTP answer") {
            let body = 32 << 20
            let configuration = testConfiguration(echoRoutes()) { configuration in
                configuration.handshakeTimeout = .milliseconds(500)
                configuration.httpHandler = { _ in
                    PlainHTTPResponse(
                        status: 200, headers: ["Content-Type": "application/octet-stream"], body: ByteBuffer(repeating: 0x61, count: body))
                }
            }
            try await withServer(configuration) { _, port in
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                    .connect(host: "127.0.0.1", port: port) { channel in
                        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                    }
                let got = try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                    try await Task.sleep(for: .seconds(2))  // reads nothing past the async channel's small buffer
                    var total = 0
                    do {
                        for try await chunk in inbound { total += chunk.readableBytes }
                    } catch {}  // a reset ends it as well as a FIN
                    return total
                }
                #expect(got < body, "the server kept writing to a client that did not read")
            }
        }
    }
}

/// Counts the reads that reach it on their way to the socket.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
