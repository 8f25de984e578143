import Foundation
import JSONRPC
import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardExamples
import SwitchboardTestSupport
import Synchronization
import Testing

// Loopback helpers: a server on port 0 bounded in time, a raw-text JSON-RPC
// client ("wire") for checking answers member by member, and a typed client.

/// Serves `registry` at /rpc on 127.0.0.1, port 0; runs `body` with the port; stops the server.
/// The whole is bounded by `seconds`, so a hang fails the test instead of hanging the run.
func withRPCServer(
    _ registry: SubprotocolRegistry = .jsonRPC(JSONRPCDemo.handler()), seconds: Double = 30,
    handlerExecution: WebSocketHandlerExecution = .eventLoop,
    _ body: @escaping @Sendable (_ port: Int) async throws -> Void
) async throws {
    var routes = WebSocketRoutes()
    routes.add("/rpc", registry)
    var configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
    configuration.connection.handlerExecution = handlerExecution
    try await withLoopbackServer(configuration, seconds: seconds) { _, port in try await body(port) }
}

func rpcURL(_ port: Int) -> String { "ws://127.0.0.1:\(port)/rpc" }

/// A client that writes JSON-RPC as raw text and reads the answers as ``JSONValue``s.
struct Wire: Sendable {
    let outbound: WebSocketOutbound
    let mailbox: Mailbox
    let context: WebSocketContext

    func send(_ text: String) async throws { try await outbound.send(text: text) }

    /// The next message, parsed; fails the test if none comes within `timeout`.
    func receive(within timeout: Duration = .seconds(10)) async throws -> JSONValue {
        guard let text = await mailbox.next(within: timeout) else {
            throw TestTimeout(what: "an answer within \(timeout)")
        }
        return try json(text)
    }

    /// Sends `request` and returns the one answer.
    func exchange(_ request: String) async throws -> JSONValue {
        try await send(request)
        return try await receive()
    }

    /// Whatever arrives within `timeout`, or `nil`.
    func stray(within timeout: Duration = .milliseconds(300)) async -> String? {
        await mailbox.next(within: timeout)
    }
}

/// Connects to /rpc offering `subprotocols`, runs `body` with a ``Wire``, then closes.
@discardableResult
func withWire(
    port: Int, subprotocols: [String] = [JSONRPCHandler.defaultToken],
    _ body: @escaping @Sendable (Wire) async throws -> Void
) async throws -> WebSocketCloseFrame? {
    let failure = Locked<(any Error)?>(nil)
    let close = try await WebSocketConnector.connect(to: rpcURL(port), configuration: .init(subprotocols: subprotocols)) {
        inbound, outbound, context in
        let mailbox = Mailbox()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { mailbox.close() }
                for try await message in inbound {
                    mailbox.put(message.text ?? "<binary \(message.data.readableBytes) bytes>")
                }
            }
            do {
                try await body(Wire(outbound: outbound, mailbox: mailbox, context: context))
            } catch {
                failure.withLock { $0 = error }
            }
            try await outbound.close()
            try await group.waitForAll()
        }
    }
    if let error = failure.value { throw error }
    return close
}

/// Runs a typed JSON-RPC client (``JSONRPCHandler`` with a session) against /rpc.
@discardableResult
func withPeer(
    port: Int, subprotocols: [String] = [JSONRPCHandler.defaultToken], methods: JSONRPCMethods = JSONRPCMethods(),
    configuration: JSONRPCConfiguration = JSONRPCConfiguration(),
    _ session: @escaping @Sendable (JSONRPCPeer) async throws -> Void
) async throws -> WebSocketCloseFrame? {
    let failure = Locked<(any Error)?>(nil)
    let client = JSONRPCHandler(methods: methods, configuration: configuration) { peer in
        do { try await session(peer) } catch {
            failure.withLock { $0 = error }
        }
    }
    let close = try await WebSocketConnector.connect(to: rpcURL(port), configuration: .init(subprotocols: subprotocols)) {
        try await client.handle($0, $1, context: $2)
    }
    if let error = failure.value { throw error }
    return close
}

/// Parses JSON text with Foundation (not with the parser under test).
func json(_ text: String) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
}

/// Whether two arrays hold the same values, in any order (a batch's responses may come in any order, §6).
func sameElements(_ a: [JSONValue], _ b: [JSONValue]) -> Bool {
    var rest = b
    for element in a {
        guard let index = rest.firstIndex(of: element) else { return false }
        rest.remove(at: index)
    }
    return rest.isEmpty
}
