import JSONRPC
import NIOCore
import PerMessageDeflate
import Switchboard
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import Testing

@testable import Multiplex

/// Our server and client over 127.0.0.1 with multiplexing negotiated.
@Suite("Mux over loopback: channels of one socket", .serialized)
struct MuxLoopbackTests {
    static func server(_ mux: MuxConfiguration = .init()) -> WebSocketServerConfiguration {
        var routes = WebSocketRoutes()
        var echo = SubprotocolRegistry(defaultHandler: echoHandler)
        echo.register("echo.v1", echoHandler)
        routes.add("/echo", echo)
        var rpc = SubprotocolRegistry(requiresSubprotocol: true)
        rpc.register(JSONRPCHandler.defaultToken, JSONRPCDemo.handler())
        routes.add("/rpc", rpc)
        routes.add(
            "/whoami",
            handler: ClosureWebSocketHandler { inbound, outbound, context in
                try await outbound.send(text: "\(context.request.path) \(context.subprotocol ?? "-") \(context.extensions.joined(separator: ","))")
                for try await _ in inbound {}
            })
        return WebSocketServerConfiguration(
            host: "127.0.0.1", port: 0, routes: routes,
            extensions: [PerMessageDeflate(), Multiplex(configuration: mux), Multiplex(revision: .draft06)],
            shutdownTimeout: .seconds(1))
    }

    static func client(_ extensions: [any WebSocketExtensionFactory] = [PerMessageDeflate(), Multiplex()]) -> WebSocketClientConfiguration {
        WebSocketClientConfiguration(extensions: extensions, connection: .init(closeTimeout: .seconds(2)), handshakeTimeout: .seconds(5))
    }

    @Test("One socket carries a JSON-RPC channel and an echo channel at once, each with its own subprotocol and deflate")
    func jsonrpcAndEcho() async throws {
        try await withLoopbackServer(Self.server(), seconds: 30) { _, port in
            let seen = Locked<[String]>([])
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client()) { inbound, outbound, context in
                // The handler runs on the implicit channel: its extensions are the channel's (deflate went inside mux).
                #expect(context.extensions == ["permessage-deflate"])
                #expect(context.canOpenChannels)
                let rpc = try await context.openChannel(path: "/rpc", subprotocols: ["jsonrpc"])
                let echo = try await context.openChannel(path: "/echo", subprotocols: ["echo.v1"])
                #expect(rpc.context.subprotocol == "jsonrpc")
                #expect(echo.context.subprotocol == "echo.v1")
                #expect(context.subprotocol == nil)  // the socket's own channel offered none
                #expect(rpc.context.extensions == ["permessage-deflate"] && echo.context.extensions == ["permessage-deflate"])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await JSONRPCHandler(session: { peer in
                            for i in 0..<20 {
                                let difference: Int = try await peer.call("subtract", [100, i])
                                seen.withLock { $0.append("rpc \(difference)") }
                            }
                        }).handle(rpc.inbound, rpc.outbound, context: rpc.context)
                    }
                    group.addTask {
                        var iterator = echo.inbound.makeAsyncIterator()
                        for i in 0..<20 {
                            try await echo.outbound.send(text: String(repeating: "echo \(i) ", count: 50))
                            let reply = try await iterator.next()
                            #expect(reply?.text == String(repeating: "echo \(i) ", count: 50))
                        }
                        try await echo.outbound.close()
                        while try await iterator.next() != nil {}
                    }
                    group.addTask {  // the physical connection's own channel, at the same time
                        var iterator = inbound.makeAsyncIterator()
                        try await outbound.send(binary: ByteBuffer(bytes: [1, 2, 3]))
                        #expect(try await iterator.next() == .binary([1, 2, 3]))
                    }
                    try await group.waitForAll()
                }
            }
            #expect(seen.value == (0..<20).map { "rpc \(100 - $0)" })
        }
    }

    @Test("A channel's request is routed like a socket's: path, subprotocol and extensions reach its handler")
    func routing() async throws {
        try await withLoopbackServer(Self.server(), seconds: 30) { _, port in
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client()) { _, _, context in
                let who = try await context.openChannel(path: "/whoami?x=1")
                var iterator = who.inbound.makeAsyncIterator()
                #expect(try await iterator.next()?.text == "/whoami - permessage-deflate")
                await #expect(throws: MultiplexError.channelRefused("the server refused the channel (status 404)")) {
                    _ = try await context.openChannel(path: "/nowhere")
                }
                await #expect(throws: MultiplexError.channelRefused("the server refused the channel (status 400)")) {
                    _ = try await context.openChannel(path: "/rpc")  // the route requires a subprotocol
                }
            }
        }
    }

    @Test("A 1 MiB message crosses a channel in quota-sized pieces, byte for byte, while channel 1 echoes")
    func largeMessage() async throws {
        try await withLoopbackServer(Self.server(MuxConfiguration(receiveWindow: 8192, maxFragmentSize: 4096)), seconds: 30) { _, port in
            var payload = ByteBuffer()
            for i in 0..<(1 << 20) { payload.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 9)) }
            let sent = payload
            let mux = Multiplex(configuration: MuxConfiguration(receiveWindow: 8192, maxFragmentSize: 4096))
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client([mux])) { inbound, outbound, context in
                let bulk = try await context.openChannel(path: "/echo")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await bulk.outbound.send(binary: sent)
                        var iterator = bulk.inbound.makeAsyncIterator()
                        #expect(try await iterator.next()?.data == sent)
                    }
                    group.addTask {
                        var iterator = inbound.makeAsyncIterator()
                        for i in 0..<50 {
                            try await outbound.send(text: "ping \(i)")
                            #expect(try await iterator.next()?.text == "ping \(i)")
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("Backpressure per channel: a reader that stops stops its channel's sender after a bounded amount; the socket's own channel goes on")
    func channelBackpressure() async throws {
        let sent = Locked(0)
        var configuration = Self.server()
        var routes = WebSocketRoutes()
        routes.add("/echo", handler: echoHandler)
        routes.add(
            "/flood",
            handler: ClosureWebSocketHandler { _, outbound, _ in
                for i in 0..<1024 {
                    try await outbound.send(binary: ByteBuffer(repeating: UInt8(truncatingIfNeeded: i), count: 1024))
                    sent.withLock { $0 += 1 }
                }
            })
        configuration.routes = routes
        try await withLoopbackServer(configuration, seconds: 30) { _, port in
            // No deflate: quota counts the bytes on the wire, and these messages would compress to nothing.
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client([Multiplex()])) {
                inbound, outbound, context in
                let flood = try await context.openChannel(path: "/flood")
                try await Task.sleep(for: .seconds(1))  // not reading: the server's handler must stall
                let stalledAt = sent.value
                // Our 64 KiB quota, 16 buffered messages, 64 KiB unsent in the session and 64 KiB in its queue: about 210.
                #expect(stalledAt > 16 && stalledAt < 400, "the flood handler sent \(stalledAt) KiB before stalling")
                var echo = inbound.makeAsyncIterator()
                try await outbound.send(text: "still answering")
                #expect(try await echo.next()?.text == "still answering")
                var count = 0
                var inOrder = true
                for try await message in flood.inbound {
                    inOrder =
                        inOrder && message.data.readableBytes == 1024
                        && message.data.readableBytesView.allSatisfy { $0 == UInt8(truncatingIfNeeded: count) }
                    count += 1
                }
                #expect(count == 1024 && inOrder)
            }
        }
    }

    @Test("Graceful shutdown closes the physical connection with 1001; the open channels end with it")
    func shutdown() async throws {
        try await withLoopbackServer(Self.server(), seconds: 30) { server, port in
            let ended = Locked<[String]>([])
            let close = try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client()) {
                inbound, outbound, context in
                let echo = try await context.openChannel(path: "/echo")
                try await echo.outbound.send(text: "before")
                var iterator = echo.inbound.makeAsyncIterator()
                #expect(try await iterator.next()?.text == "before")
                server.shutdown()
                do {
                    while try await iterator.next() != nil {}
                    ended.withLock { $0.append("channel ended") }
                } catch {
                    ended.withLock { $0.append("channel failed") }
                }
                for try await _ in inbound {}
            }
            #expect(close?.code == .goingAway)
            #expect(ended.value.count == 1)
        }
    }

    @Test("Without mux on the server, openChannel says so; the connection itself still works")
    func notNegotiated() async throws {
        var configuration = Self.server()
        configuration.extensions = []
        try await withLoopbackServer(configuration, seconds: 30) { _, port in
            try await WebSocketConnector.connect(to: "ws://127.0.0.1:\(port)/echo", configuration: Self.client()) { inbound, outbound, context in
                await #expect(throws: MultiplexError.channelRefused("the connection did not negotiate multiplexing")) {
                    _ = try await context.openChannel(path: "/echo")
                }
                try await outbound.send(text: "plain")
                var iterator = inbound.makeAsyncIterator()
                #expect(try await iterator.next()?.text == "plain")
            }
        }
    }
}
