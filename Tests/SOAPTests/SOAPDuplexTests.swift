import SOAP
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import Synchronization
import Testing

private struct Delay: Codable, Sendable {
    var text: String
    var ms: Int
}

private struct Text: Codable, Sendable {
    var text: String
}

private struct Number: Codable, Sendable {
    var n: Int
}

/// Typed calls both ways over one socket: out-of-order answers, the server calling the
/// client, one-way pushes, timeouts and the connection closing under waiting calls.
@Suite struct SOAPDuplexTests {
    @Test(arguments: SOAPVersion.allCases)
    func typedCallsAndFaults(_ version: SOAPVersion) async throws {
        try await withSOAPServer { port in
            try await withSOAPPeer(port: port, configuration: SOAPConfiguration(version: version)) { server in
                #expect(server.version == version)
                let sum = try await server.call("Add", SOAPCalculatorDemo.Operands(a: 2, b: 3), as: SOAPCalculatorDemo.Result.self)
                #expect(sum.result == 5)
                let quotient = try await server.call("Divide", SOAPCalculatorDemo.Operands(a: -7, b: 2), as: SOAPCalculatorDemo.Result.self)
                #expect(quotient.result == -3)
                do {
                    _ = try await server.call("Divide", SOAPCalculatorDemo.Operands(a: 1, b: 0), as: SOAPCalculatorDemo.Result.self)
                    Issue.record("no fault")
                } catch let fault as SOAPFault {
                    #expect(fault.code == .sender && fault.reason == "division by zero")
                    #expect(fault.subcodes == (version == .soap12 ? [XName("DivisionByZero", namespace: calc)] : []))
                }
                // An answer of another shape than asked for.
                await #expect(throws: SOAPCallError.self) {
                    _ = try await server.call("Add", SOAPCalculatorDemo.Operands(a: 1, b: 1), as: Delay.self)
                }
            }
        }
    }

    @Test func answersComeBackInCompletionOrder() async throws {
        var operations = SOAPOperations(namespace: calc)
        let finished = Locked<[String]>([])
        operations.register("Echo") { (input: Delay, _) in
            try await Task.sleep(for: .milliseconds(input.ms))
            finished.withLock { $0.append(input.text) }
            return Text(text: input.text)
        }
        try await withSOAPServer(SOAPHandler(operations: operations)) { port in
            try await withSOAPPeer(port: port) { server in
                let received = Locked<[String]>([])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (text, ms) in [("slow", 600), ("middle", 300), ("fast", 0)] {
                        group.addTask {
                            let answer = try await server.call("Echo", Delay(text: text, ms: ms), as: Text.self)
                            #expect(answer.text == text)  // each answer reaches its own call
                            received.withLock { $0.append(answer.text) }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(finished.value == ["fast", "middle", "slow"])
                #expect(received.value == ["fast", "middle", "slow"])
            }
        }
    }

    @Test func theServerCallsTheClientAndPushesOneWayMessages() async throws {
        var serverOperations = SOAPOperations(namespace: calc)
        serverOperations.register("Twice") { (input: Number, client) in
            // The server asks the client while the client's call waits.
            let doubled = try await client.call("Double", input, as: Number.self)
            try await client.send("Note", Text(text: "doubled \(input.n)"))
            return Number(n: doubled.n * 2)
        }
        var clientOperations = SOAPOperations(namespace: calc)
        clientOperations.register("Double") { (input: Number, _) in Number(n: input.n * 2) }
        let notes = Locked<[String]>([])
        clientOperations.registerOneWay("Note") { (note: Text, _) in notes.withLock { $0.append(note.text) } }
        let client = clientOperations
        try await withSOAPServer(SOAPHandler(operations: serverOperations)) { port in
            try await withSOAPPeer(port: port, operations: client) { server in
                #expect(try await server.call("Twice", Number(n: 5), as: Number.self).n == 20)
                for _ in 0..<100 where notes.value.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                #expect(notes.value == ["doubled 5"])
            }
        }
    }

    @Test func subscribePushesTicks() async throws {
        let ticks = Locked<[Int]>([])
        var clientOperations = SOAPOperations(namespace: calc)
        clientOperations.registerOneWay("Tick") { (tick: SOAPCalculatorDemo.Tick, _) in ticks.withLock { $0.append(tick.n) } }
        let client = clientOperations
        try await withSOAPServer { port in
            try await withSOAPPeer(port: port, operations: client) { server in
                let accepted = try await server.call(
                    "Subscribe", SOAPCalculatorDemo.Subscription(count: 3, intervalMs: 10), as: SOAPCalculatorDemo.Accepted.self)
                #expect(accepted.accepted == 3)
                for _ in 0..<300 where ticks.value.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(ticks.value == [1, 2, 3])
            }
        }
    }

    @Test func callsTimeOutAndFailWhenTheConnectionCloses() async throws {
        var operations = SOAPOperations(namespace: calc)
        operations.register("Hang") { (_: Number, _) -> Number in
            try await Task.sleep(for: .seconds(30))
            return Number(n: 0)
        }
        try await withSOAPServer(SOAPHandler(operations: operations)) { port in
            try await withSOAPPeer(port: port) { server in
                await #expect(throws: SOAPCallError.timedOut(operation: "Hang", after: .milliseconds(200))) {
                    _ = try await server.call("Hang", Number(n: 1), as: Number.self, timeout: .milliseconds(200))
                }
            }
            // The session ends (and closes the socket) while a call waits: the call fails, it does not hang.
            let waiting = Locked<Task<Number, any Error>?>(nil)
            try await withSOAPPeer(port: port) { server in
                waiting.withLock { $0 = Task { try await server.call("Hang", Number(n: 1), as: Number.self) } }
                try await Task.sleep(for: .milliseconds(100))
            }
            let result = await (try #require(waiting.value)).result
            await #expect(throws: SOAPCallError.connectionClosed) { try await result.get() }
        }
    }
}
