import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// A connection whose handler sends as fast as the peer takes it still reads: the peer's
/// messages and pongs come in while it sends.
@Suite("Full duplex: a sending handler still reads", .serialized)
struct FullDuplexTests {
    enum Sender: String, CaseIterable, CustomTestStringConvertible {
        /// Sends back to back; the send suspends only when the connection holds too much.
        case backToBack
        /// Yields after every send, as a handler that wants to be fair would.
        case yielding
        var testDescription: String { rawValue }
    }

    @Test(
        "A client sending 1 KiB messages without pause sees the server's message and its pongs; heartbeats do not close it",
        arguments: Sender.allCases, [WebSocketHandlerExecution.eventLoop, .globalExecutor])
    func senderStillReads(_ sender: Sender, _ execution: WebSocketHandlerExecution) async throws {
        try await withTimeout(30, "full duplex") {
            var routes = WebSocketRoutes()
            routes.add(
                "/sink",
                handler: ClosureWebSocketHandler { inbound, outbound, _ in
                    var answered = false
                    for try await _ in inbound where !answered {
                        answered = true
                        try await outbound.send(text: "seen")
                    }
                })
            try await withServer(testConfiguration(routes)) { _, port in
                let answeredAfter = Locked<Duration?>(nil)
                // The ping waits behind every byte of the flood the kernel holds (megabytes on
                // loopback), so its pong can take a while on a loaded machine even when both sides
                // read: 500 ms failed in CI and on 2 cores beside two busy processes. 2 s of timeout
                // against 4 s of sending still fails a client that reads no pong while it sends.
                let connection = WebSocketConnectionConfiguration(
                    pingInterval: .milliseconds(100), pingTimeout: .seconds(2), closeTimeout: .seconds(2), handlerExecution: execution)
                let close = try await WebSocketConnector.connect(to: url(port, "/sink"), configuration: .test(connection: connection)) {
                    inbound, outbound, _ in
                    let payload = [UInt8](repeating: 7, count: 1024)
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in inbound where message == .text("seen") {
                                answeredAfter.withLock { $0 = .now - start }
                            }
                        }
                        // 4 s of sending: twice the ping timeout, forty ping intervals.
                        while ContinuousClock.now < start + .seconds(4) {
                            try await outbound.send(.binary(payload))
                            if sender == .yielding { await Task.yield() }
                        }
                        group.cancelAll()
                    }
                }
                #expect(close?.code == .normalClosure, "closed with \(String(describing: close))")
                let after = try #require(answeredAfter.value, "the server's message was not read while the client sent")
                #expect(after < .seconds(1), "the server's message was read only after \(after)")
            }
        }
    }
}
