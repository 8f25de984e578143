import JSONRPC
import Switchboard
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// One peer type on both ends: calls both ways, server push, concurrency and
/// its bound, cancellation when the connection closes, timeouts, failures.
@Suite("JSONRPCPeer: both ends, concurrency, cancellation, timeouts")
struct PeerTests {
    /// Polls `condition` until it holds or `seconds` pass.
    static func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    @Test("Bidirectional: during the client's call, the server calls a method registered on the client and gets its result")
    func serverCallsClient() async throws {
        var serverMethods = JSONRPCMethods()
        serverMethods.register("greet") { client in
            let name: String = try await client.call("whoami")
            let sum: Int = try await client.call("add", [20, 22])
            return "hello, \(name): \(sum)"
        }
        var clientMethods = JSONRPCMethods()
        clientMethods.register("whoami") { _ in "swift client" }
        clientMethods.register("add") { (numbers: [Int], _) in numbers.reduce(0, +) }

        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: serverMethods))) { [clientMethods] port in
            let greeting = Locked<String?>(nil)
            try await withPeer(port: port, methods: clientMethods) { server in
                let text: String = try await server.call("greet")
                greeting.withLock { $0 = text }
            }
            #expect(greeting.value == "hello, swift client: 42")
        }
    }

    @Test("Bidirectional: a server session calls the client first, unprompted, and gets its result")
    func serverSessionCallsClient() async throws {
        let result = Locked<Int?>(nil)
        let server = JSONRPCHandler { client in
            let sum: Int = try await client.call("add", [1, 2, 3])
            result.withLock { $0 = sum }
        }
        var clientMethods = JSONRPCMethods()
        clientMethods.register("add") { (numbers: [Int], _) in numbers.reduce(0, +) }
        let client = JSONRPCHandler(methods: clientMethods)  // no session: serves until the server closes
        try await withRPCServer(.jsonRPC(server)) { port in
            let close = try await WebSocketConnector.connect(to: rpcURL(port), configuration: .init(subprotocols: ["jsonrpc"])) {
                try await client.handle($0, $1, context: $2)
            }
            #expect(close?.code == .normalClosure)
            #expect(result.value == 6)
        }
    }

    @Test("A session that returns closes with 1000; one that throws, with 1011")
    func sessionEnds() async throws {
        struct Failed: Error {}
        for (fails, code) in [(false, WebSocketCloseCode.normalClosure), (true, .internalServerError)] {
            let server = JSONRPCHandler { client in
                try await client.notify("hello")
                if fails { throw Failed() }
            }
            try await withRPCServer(.jsonRPC(server)) { port in
                let close = try await withWire(port: port) { wire in
                    let hello = try await wire.receive()
                    #expect(hello == ["jsonrpc": "2.0", "method": "hello"])
                    // Let the server close first: if we closed now, the server would answer our 1000.
                    #expect(await wire.stray(within: .seconds(5)) == nil)
                }
                #expect(close?.code == code)
            }
        }
    }

    @Test("Server push: subscribe, then tick notifications arrive at a method registered on the client")
    func subscription() async throws {
        let (ticks, tick) = AsyncStream.makeStream(of: JSONValue.self)
        var clientMethods = JSONRPCMethods()
        clientMethods.register("tick") { (params: JSONValue, _) in tick.yield(params) }
        try await withRPCServer { [clientMethods] port in
            let received = Locked<[JSONValue]>([])
            let subscription = Locked<String?>(nil)
            try await withPeer(port: port, methods: clientMethods) { server in
                let id: String = try await server.call("subscribe", ["interval_ms": 20, "count": 3])
                subscription.withLock { $0 = id }
                for await params in ticks {
                    received.withLock { $0.append(params) }
                    if received.value.count == 3 { break }
                }
            }
            let id = try #require(subscription.value)
            #expect(received.value == [1, 2, 3].map { ["subscription": .string(id), "n": .integer($0)] })
        }
    }

    @Test("Server push: unsubscribe stops the ticks; another connection cannot stop them")
    func unsubscribe() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                _ = try await wire.exchange(#"{"jsonrpc":"2.0","method":"subscribe","params":{"interval_ms":10,"count":100000},"id":1}"#)
                let first = try await wire.receive()
                #expect(first["method"] == "tick")
                let id = try #require(first["params"]?["subscription"])
                try await withWire(port: port) { other in
                    let stranger = try await other.exchange(#"{"jsonrpc":"2.0","method":"unsubscribe","params":[\#(id)],"id":1}"#)
                    #expect(stranger["result"] == false)
                }
                try await wire.send(#"{"jsonrpc":"2.0","method":"unsubscribe","params":[\#(id)],"id":"u"}"#)
                var answer = try await wire.receive()
                while answer["method"] == "tick" { answer = try await wire.receive() }
                #expect(answer == ["jsonrpc": "2.0", "result": true, "id": "u"])
                while let late = await wire.stray(within: .milliseconds(200)) {
                    #expect(late.contains("tick"), "only ticks already sent may follow: \(late)")
                }
            }
        }
    }

    static func sleeper(
        _ configuration: JSONRPCConfiguration = JSONRPCConfiguration(),
        running: Locked<(now: Int, most: Int)> = Locked((0, 0))
    ) -> SubprotocolRegistry {
        var methods = JSONRPCMethods()
        methods.register("sleep") { (milliseconds: [Int], _) in
            running.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            defer { running.withLock { $0.now -= 1 } }
            try await Task.sleep(for: .milliseconds(milliseconds[0]))
            return milliseconds[0]
        }
        return .jsonRPC(JSONRPCHandler(methods: methods, configuration: configuration))
    }

    @Test("Concurrency: calls of one connection run at once and are answered as they finish")
    func answeredAsTheyFinish() async throws {
        try await withRPCServer(Self.sleeper()) { port in
            try await withWire(port: port) { wire in
                try await wire.send(#"{"jsonrpc":"2.0","method":"sleep","params":[600],"id":"slow"}"#)
                try await wire.send(#"{"jsonrpc":"2.0","method":"sleep","params":[10],"id":"fast"}"#)
                let clock = ContinuousClock()
                let start = clock.now
                #expect(try await wire.receive()["id"] == "fast")
                #expect(clock.now - start < .milliseconds(500), "the fast call did not wait for the slow one")
                #expect(try await wire.receive()["id"] == "slow")
            }
        }
    }

    @Test("A method that does not await runs as its call arrives, in order; one that awaits runs beside it")
    func immediateMethodsRunInOrder() async throws {
        let order = Locked<[String]>([])
        var methods = JSONRPCMethods()
        // Blocks its thread on purpose: in a task of its own on the global executor, `quick`
        // would run meanwhile on another thread and be answered first.
        methods.register("block") { (milliseconds: [Int], _) -> String in
            usleep(UInt32(milliseconds[0] * 1000))
            order.withLock { $0.append("block") }
            return "block"
        }
        methods.register("quick") { (_: [Int], _) -> String in
            order.withLock { $0.append("quick") }
            return "quick"
        }
        methods.register("wait") { (milliseconds: [Int], _) -> String in
            try await Task.sleep(for: .milliseconds(milliseconds[0]))
            order.withLock { $0.append("wait") }
            return "wait"
        }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods)), handlerExecution: .globalExecutor) { port in
            try await withWire(port: port) { wire in
                try await wire.send(#"{"jsonrpc":"2.0","method":"wait","params":[400],"id":1}"#)
                try await wire.send(#"{"jsonrpc":"2.0","method":"block","params":[60],"id":2}"#)
                try await wire.send(#"{"jsonrpc":"2.0","method":"quick","params":[],"id":3}"#)
                var answers: [JSONValue] = []
                for _ in 1...3 { answers.append(try await wire.receive()["result"] ?? .null) }
                #expect(answers == ["block", "quick", "wait"])
            }
        }
        #expect(order.value == ["block", "quick", "wait"])
    }

    @Test("Concurrency bound: at most maxConcurrentCalls run; the others wait and none is dropped", arguments: [false, true])
    func bounded(batch: Bool) async throws {
        let running = Locked((now: 0, most: 0))
        try await withRPCServer(Self.sleeper(JSONRPCConfiguration(maxConcurrentCalls: 2), running: running)) { port in
            try await withWire(port: port) { wire in
                let calls = (1...12).map { #"{"jsonrpc":"2.0","method":"sleep","params":[30],"id":\#($0)}"# }
                var ids: [JSONValue] = []
                if batch {
                    let answer = try await wire.exchange("[\(calls.joined(separator: ","))]")
                    ids = answer.arrayValue?.compactMap { $0["id"] } ?? []
                } else {
                    for call in calls { try await wire.send(call) }
                    for _ in calls { ids.append(try await wire.receive()["id"] ?? .null) }
                }
                #expect(Set(ids) == Set((1...12).map { JSONValue.integer($0) }))
            }
        }
        #expect(running.value.most == 2)
    }

    @Test("Closing the connection cancels the calls still running")
    func cancelledOnClose() async throws {
        let started = Locked(0)
        let cancelled = Locked(0)
        var methods = JSONRPCMethods()
        methods.register("hang") { (_: [Int], _) -> Int in
            started.withLock { $0 += 1 }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.withLock { $0 += 1 }
                throw error
            }
            return 0
        }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods))) { port in
            try await withWire(port: port) { wire in
                for id in 1...3 { try await wire.send(#"{"jsonrpc":"2.0","method":"hang","params":[],"id":\#(id)}"#) }
                #expect(try await Self.eventually { started.value == 3 })
            }
            #expect(try await Self.eventually { cancelled.value == 3 })
        }
    }

    @Test("Timeout: a call without an answer in time fails with timedOut; the late answer is dropped; the connection goes on")
    func timeout() async throws {
        // "slow" answers only once the test opens the gate: no race between a timeout and a sleep
        // on a loaded machine.
        let gate = Locked(false)
        var methods = JSONRPCDemo.methods()
        methods.register("slow") { _ in
            while !gate.value { try await Task.sleep(for: .milliseconds(10)) }
            return 1
        }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods))) { port in
            try await withPeer(port: port) { server in
                await #expect(throws: JSONRPCCallError.timedOut(method: "slow", after: .milliseconds(50))) {
                    try await server.call("slow", as: Int.self, timeout: .milliseconds(50))
                }
                gate.withLock { $0 = true }
                try await Task.sleep(for: .milliseconds(300))  // the late answer arrives and is dropped
                gate.withLock { $0 = false }
                #expect(try await server.call("subtract", [42, 23], as: Int.self) == 19)
                // A short timeout after a long one still fires on time, and the long call still gets its answer.
                async let long = server.call("slow", as: Int.self, timeout: .seconds(20))
                try await Task.sleep(for: .milliseconds(20))
                let clock = ContinuousClock()
                let start = clock.now
                await #expect(throws: JSONRPCCallError.timedOut(method: "slow", after: .milliseconds(100))) {
                    try await server.call("slow", as: Int.self, timeout: .milliseconds(100))
                }
                // Not held until the long call's deadline (20 s); the bound is loose for a loaded machine.
                #expect(clock.now - start < .seconds(5))
                gate.withLock { $0 = true }
                #expect(try await long == 1)
            }
        }
    }

    @Test("A connection that drops fails the calls waiting on it at once, not at their timeout")
    func dropFailsCalls() async throws {
        // A server that reads one message and leaves without answering.
        var registry = SubprotocolRegistry(
            defaultHandler: ClosureWebSocketHandler { inbound, _, _ in
                for try await _ in inbound { return }
            })
        registry.register("jsonrpc", registry.defaultHandler!)
        try await withRPCServer(registry) { port in
            let clock = ContinuousClock()
            let start = clock.now
            let saved = Locked<JSONRPCPeer?>(nil)
            try await withPeer(port: port) { server in
                saved.withLock { $0 = server }
                await #expect(throws: JSONRPCCallError.connectionClosed) {
                    try await server.call("sum", [1, 2], as: Int.self)
                }
            }
            #expect(clock.now - start < .seconds(5))
            // And every call after the end fails at once; tasks started after it are cancelled.
            let peer = try #require(saved.value)
            await #expect(throws: JSONRPCCallError.connectionClosed) { try await peer.call("sum", [1], as: Int.self) }
            let late = try peer.startTask { try await Task.sleep(for: .seconds(60)) }
            #expect(late.isCancelled)
        }
    }

    @Test("A typed caller gets the peer's errors as JSONRPCError, and its own mistakes as JSONRPCCallError")
    func callerErrors() async throws {
        try await withRPCServer { port in
            try await withPeer(port: port) { server in
                await #expect(throws: JSONRPCError.methodNotFound) { try await server.call("foobar", as: Int.self) }
                do {
                    _ = try await server.call("subtract", ["minuend": 1], as: Int.self)
                    Issue.record("no error")
                } catch let error as JSONRPCError {
                    #expect(error.code == -32602 && error.message.contains("subtrahend"))
                }
                do {
                    _ = try await server.call("get_data", as: Int.self)
                    Issue.record("no error")
                } catch JSONRPCCallError.resultMismatch(let method, _) {
                    #expect(method == "get_data")
                }
                await #expect(throws: JSONRPCCallError.parametersNotStructured(method: "sum")) {
                    try await server.call("sum", 5, as: Int.self)
                }
                #expect(try await server.call("get_data", as: JSONValue.self) == ["hello", 5])
            }
        }
    }

    @Test("One peer, many concurrent calls: every answer reaches its own caller")
    func manyConcurrentCalls() async throws {
        try await withRPCServer { port in
            try await withPeer(port: port) { server in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for n in 0..<200 {
                        group.addTask { try await server.call("subtract", [n, 1], as: Int.self) == n - 1 }
                    }
                    for try await correct in group { #expect(correct) }
                }
            }
        }
    }

    @Test("Notifications from a client are run and never answered")
    func clientNotifies() async throws {
        let seen = Locked<[Int]>([])
        var methods = JSONRPCMethods()
        methods.register("record") { (numbers: [Int], _) in seen.withLock { $0 += numbers } }
        methods.register("ping") { _ in "pong" }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods))) { port in
            try await withPeer(port: port) { server in
                try await server.notify("record", [1, 2])
                try await server.notify("record", ["not": "a list"])  // fails on the server; still unanswered
                #expect(try await server.call("ping", as: String.self) == "pong")
                #expect(try await Self.eventually { seen.value == [1, 2] })
            }
        }
    }

    @Test(
        "Subprotocol: served under the jsonrpc token, without any, and under a configured token",
        arguments: [
            (["jsonrpc"], "jsonrpc", "jsonrpc"),
            ([], "jsonrpc", "none"),
            (["other", "x-rpc.v1"], "x-rpc.v1", "x-rpc.v1"),
            (["jsonrpc"], "x-rpc.v1", "none"),
        ])
    func subprotocols(offered: [String], served: String, expected: String) async throws {
        var methods = JSONRPCMethods()
        methods.register("whoami") { peer in peer.context.subprotocol ?? "none" }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods), token: served)) { port in
            try await withPeer(port: port, subprotocols: offered) { server in
                let negotiated = server.context.subprotocol ?? "none"
                let seenByServer = try await server.call("whoami", as: String.self)
                #expect(negotiated == expected)
                #expect(seenByServer == expected)
            }
        }
    }
}
