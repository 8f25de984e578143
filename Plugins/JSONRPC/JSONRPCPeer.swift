import Logging
import NIOCore
import SwitchboardCalls
import SwitchboardCore
import SwitchboardJSON
import Synchronization

/// The other end of one JSON-RPC connection, the same type on a server and on
/// a client: call its methods, notify it, and run work that lasts as long as
/// the connection.
///
/// A server's methods receive the calling peer, so a server calls and
/// notifies its client exactly as a client calls its server:
///
/// ```swift
/// methods.register("subscribe") { (_: JSONValue, peer) -> String in
///     try peer.startTask {
///         for n in 1... {
///             try await Task.sleep(for: .seconds(1))
///             try await peer.notify("tick", ["n": .integer(n)] as JSONValue)
///         }
///     }
///     return "ok"
/// }
/// ```
public final class JSONRPCPeer: Sendable {
    /// The connection: handshake request, subprotocol, role, logger.
    public let context: WebSocketContext
    private let outbound: WebSocketOutbound
    private let callTimeout: Duration
    let pending = PendingCalls<JSONValue>(closedError: JSONRPCCallError.connectionClosed) { method, timeout in
        JSONRPCCallError.timedOut(method: method, after: timeout)
    }
    private let tasks: BackgroundTasks
    /// Each call's span and `rpc.server.duration` or `rpc.client.duration`.
    let telemetry = CallTelemetry(system: "jsonrpc", errorCodeKey: "rpc.jsonrpc.error_code")

    init(outbound: WebSocketOutbound, context: WebSocketContext, configuration: JSONRPCConfiguration) {
        self.outbound = outbound
        self.context = context
        self.callTimeout = configuration.callTimeout
        self.tasks = BackgroundTasks(limit: configuration.maxBackgroundTasks)
    }

    /// Calls `method` on the peer and waits for its result.
    ///
    /// ```swift
    /// let difference: Int = try await peer.call("subtract", [42, 23])
    /// let named = try await peer.call("subtract", ["minuend": 42, "subtrahend": 23], as: Int.self)
    /// ```
    ///
    /// - Parameters:
    ///   - method: the method to call.
    ///   - params: encodes to a JSON array (by position) or object (by name); omitted when `nil`.
    ///   - type: what the result decodes to (inferred from the call's context when omitted).
    ///   - timeout: how long to wait for the answer; ``JSONRPCConfiguration/callTimeout`` when `nil`.
    /// - Throws: ``JSONRPCError`` when the peer answers with an error;
    ///   ``JSONRPCCallError`` when there is no usable answer (timeout, connection
    ///   closed, a result of another type); `CancellationError` when the calling task is cancelled.
    public func call<Result: Decodable>(
        _ method: String, _ params: (any Encodable)? = nil, as type: Result.Type = Result.self,
        timeout: Duration? = nil
    ) async throws -> Result {
        let encodedParams = try encode(params, for: method)
        let result = try await telemetry.made(method: method, outcome: Self.outcome) {
            let id = try pending.open(method: method, timeout: timeout ?? callTimeout)
            do {
                try await send(Envelope.request(method: method, params: encodedParams, id: id))
            } catch {
                pending.discard(id)
                throw error
            }
            return try await pending.wait(for: id)
        }
        do {
            return try JSONCoding.decode(Result.self, from: result)
        } catch let error as DecodingError {
            throw JSONRPCCallError.resultMismatch(method: method, reason: ParameterDecoding.describe(error))
        }
    }

    /// How one of our calls that threw ended, for ``CallTelemetry``.
    private static func outcome(_ error: any Error) -> CallTelemetry.Outcome {
        switch error {
        case let error as JSONRPCError: return .errorCode("\(error.code)")
        case JSONRPCCallError.timedOut: return .noAnswer("timeout")
        case JSONRPCCallError.connectionClosed: return .noAnswer("closed")
        case is CancellationError: return .noAnswer("cancelled")
        default: return .noAnswer("other")
        }
    }

    /// Sends a notification: a call that is never answered, not even with an error (§4.1).
    /// Returns once it is handed to the connection.
    public func notify(_ method: String, _ params: (any Encodable)? = nil) async throws {
        try await send(Envelope.notification(method: method, params: encode(params, for: method)))
    }

    /// Runs `body` for as long as the connection lasts: it is cancelled when
    /// the connection closes (at once, if it already has). This is how a method
    /// starts pushing notifications and still answers its call right away.
    /// An error `body` throws ends it and is logged at debug level.
    ///
    /// - Throws: ``JSONRPCError/tooManyBackgroundTasks`` when the connection already
    ///   runs ``JSONRPCConfiguration/maxBackgroundTasks``; thrown from a method, it
    ///   answers the call.
    @discardableResult
    public func startTask(_ body: @escaping @Sendable () async throws -> Void) throws(JSONRPCError) -> Task<Void, Never> {
        let logger = context.logger
        do {
            return try tasks.start(body) { error in logger.debug("JSON-RPC background task ended", metadata: ["error": "\(error)"]) }
        } catch {
            logger.log(
                level: error.isFirst ? .info : .debug, "JSON-RPC background task refused: the connection runs as many as it may",
                metadata: ["limit": "\(error.limit)"])
            throw JSONRPCError.tooManyBackgroundTasks.with(data: "at most \(error.limit) at once on a connection")
        }
    }

    // MARK: Internal

    /// Sends one message; a failed write means the connection is going away.
    func send(_ bytes: [UInt8]) async throws(JSONRPCCallError) {
        do {
            try await outbound.send(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: bytes)))
        } catch {
            throw .connectionClosed
        }
    }

    /// The connection is gone: fails waiting calls, cancels background tasks.
    func connectionClosed() {
        pending.closeAll()
        tasks.cancelAll()
    }

    private func encode(_ params: (any Encodable)?, for method: String) throws -> [UInt8]? {
        guard let params else { return nil }
        let bytes = try JSONCoding.encode(params)
        guard bytes.first == UInt8(ascii: "[") || bytes.first == UInt8(ascii: "{") else {
            throw JSONRPCCallError.parametersNotStructured(method: method)
        }
        return bytes
    }
}
