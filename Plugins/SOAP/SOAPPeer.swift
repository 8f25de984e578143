import Logging
import NIOCore
import SwitchboardCalls
import SwitchboardCore

/// The other end of one SOAP connection, the same type on a server and on a client: call
/// its operations, send it one-way messages, and run work that lasts as long as the
/// connection.
///
/// Calls carry a WS-Addressing `MessageID`, answers the `RelatesTo` that names it, so many
/// calls can be in flight on one socket and their answers come back in any order.
///
/// ```swift
/// let sum = try await peer.call("Add", Add(a: 2, b: 3), as: AddResponse.self)
/// try await peer.send("Tick", Tick(n: 1))  // one-way
/// ```
public final class SOAPPeer: Sendable {
    /// The connection: handshake request, subprotocol, role, logger.
    public let context: WebSocketContext
    /// The version spoken on this connection.
    public let version: SOAPVersion
    /// The namespace calls and one-way messages are in unless told otherwise.
    public let namespace: String
    private let outbound: WebSocketOutbound
    private let callTimeout: Duration
    private let tasks: BackgroundTasks
    let pending = PendingCalls<Result<XElement, SOAPFault>>(closedError: SOAPCallError.connectionClosed) { operation, timeout in
        SOAPCallError.timedOut(operation: operation, after: timeout)
    }
    /// Our message ids: a random UUID-shaped prefix per connection, then the call's number.
    private let messageIDPrefix: String
    /// Each operation's span and `rpc.server.duration` or `rpc.client.duration`.
    let telemetry = CallTelemetry(system: "soap", errorCodeKey: "rpc.soap.fault_code")

    /// The header blocks of the request an operation is serving (inside an operation only).
    @TaskLocal public static var requestHeaders: [XElement] = []

    init(outbound: WebSocketOutbound, context: WebSocketContext, version: SOAPVersion, namespace: String, configuration: SOAPConfiguration) {
        self.outbound = outbound
        self.context = context
        self.version = version
        self.namespace = namespace
        self.callTimeout = configuration.callTimeout
        self.tasks = BackgroundTasks(limit: configuration.maxBackgroundTasks)
        var random = SystemRandomNumberGenerator()
        func hex(_ digits: Int) -> String {
            let value = String(random.next(upperBound: UInt64(1) << UInt64(4 * digits)), radix: 16)
            return String(repeating: "0", count: digits - value.count) + value
        }
        self.messageIDPrefix = "urn:uuid:\(hex(8))-\(hex(4))-4\(hex(3))-a\(hex(3))-"
    }

    /// Calls `operation` (its input element `<operation>` in ``namespace``) and decodes the
    /// answer's body element as `Output`.
    ///
    /// - Throws: ``SOAPFault`` when the peer answers with one; ``SOAPCallError`` when there is
    ///   no usable answer; `CancellationError` when the calling task is cancelled.
    public func call<Input: Encodable, Output: Decodable>(
        _ operation: String, _ input: Input, as type: Output.Type = Output.self, timeout: Duration? = nil
    ) async throws -> Output {
        let body = try XElementEncoder.encode(input, as: XName(operation, namespace: namespace))
        let answer = try await call(body, action: "\(namespace)/\(operation)", timeout: timeout)
        do {
            return try XElementDecoder.decode(type, from: answer)
        } catch let error as DecodingError {
            throw SOAPCallError.responseMismatch(operation: operation, reason: SOAPOperations.describe(error))
        }
    }

    /// Sends `body` as a request and returns the answer's body element.
    public func call(_ body: XElement, action: String? = nil, timeout: Duration? = nil) async throws -> XElement {
        try await telemetry.made(method: body.name.local, outcome: Self.outcome) {
            let id = try pending.open(method: body.name.local, timeout: timeout ?? callTimeout)
            let addressing = Addressing(action: action, messageID: messageID(id))
            do {
                try await send(SOAPEnvelope(version: version, headers: addressing.headerBlocks, body: [body]))
            } catch {
                pending.discard(id)
                throw error
            }
            return try await pending.wait(for: id).get()
        }
    }

    /// How one of our calls that threw ended, for ``CallTelemetry``.
    private static func outcome(_ error: any Error) -> CallTelemetry.Outcome {
        switch error {
        case let fault as SOAPFault: return .errorCode(fault.code.rawValue)
        case SOAPCallError.timedOut: return .noAnswer("timeout")
        case SOAPCallError.connectionClosed: return .noAnswer("closed")
        case is CancellationError: return .noAnswer("cancelled")
        default: return .noAnswer("other")
        }
    }

    /// Sends a one-way message (`<operation>` in ``namespace``): nothing answers it.
    public func send<Input: Encodable>(_ operation: String, _ input: Input) async throws {
        try await send(try XElementEncoder.encode(input, as: XName(operation, namespace: namespace)), action: "\(namespace)/\(operation)")
    }

    /// Sends `body` as a one-way message.
    public func send(_ body: XElement, action: String? = nil) async throws {
        try await send(SOAPEnvelope(version: version, headers: Addressing(action: action).headerBlocks, body: [body]))
    }

    /// Runs `body` for as long as the connection lasts: it is cancelled when the connection
    /// closes. How an operation starts pushing messages and still answers at once.
    ///
    /// - Throws: a Receiver ``SOAPFault`` when the connection already runs
    ///   ``SOAPConfiguration/maxBackgroundTasks``; thrown from an operation, it answers the call.
    @discardableResult
    public func startTask(_ body: @escaping @Sendable () async throws -> Void) throws(SOAPFault) -> Task<Void, Never> {
        let logger = context.logger
        do {
            return try tasks.start(body) { error in logger.debug("SOAP background task ended", metadata: ["error": "\(error)"]) }
        } catch {
            logger.log(
                level: error.isFirst ? .info : .debug, "SOAP background task refused: the connection runs as many as it may",
                metadata: ["limit": "\(error.limit)"])
            throw SOAPFault(.receiver, reason: "at most \(error.limit) background tasks at once on a connection")
        }
    }

    // MARK: Internal

    func send(_ envelope: SOAPEnvelope) async throws(SOAPCallError) {
        do {
            try await outbound.send(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: envelope.serialized())))
        } catch {
            throw .connectionClosed
        }
    }

    func messageID(_ number: Int) -> String {
        let digits = String(number, radix: 16)
        return messageIDPrefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// The number of our call a `RelatesTo` names, if it names one of ours.
    func callNumber(relatingTo id: String) -> Int? {
        guard id.hasPrefix(messageIDPrefix) else { return nil }
        return Int(id.dropFirst(messageIDPrefix.count), radix: 16)
    }

    /// The connection is gone: fails waiting calls, cancels background tasks.
    func connectionClosed() {
        pending.closeAll()
        tasks.cancelAll()
    }
}
