import Logging
import NIOCore
import SwitchboardCalls
import SwitchboardCore
import SwitchboardJSON
import Synchronization

/// One JSON-RPC connection at work: reads messages, answers calls to methods that do
/// not await as they come, runs the others concurrently under the configured bound and
/// answers each as it finishes,
/// and hands answers to our own calls to the ``JSONRPCPeer``.
final class JSONRPCConnection: Sendable {
    /// Where the response to a request goes (a notification's goes nowhere, §4.1).
    enum ReplyTarget: Sendable {
        /// A message of its own.
        case message
        /// A slot in a batch's array (§6).
        case batch(BatchReply, slot: Int)
    }

    struct Job: Sendable {
        var call: IncomingCall
        var target: ReplyTarget
    }

    /// A call to a method that awaits, on its way to a task of its own.
    struct Scheduled: Sendable {
        var job: Job
        var body: @Sendable (_ params: JSONValue?, _ peer: JSONRPCPeer) async throws -> [UInt8]
    }

    let peer: JSONRPCPeer
    private let methods: JSONRPCMethods
    private let configuration: JSONRPCConfiguration
    private let scheduler: CallScheduler<Scheduled>
    private var logger: Logger { peer.context.logger }

    init(peer: JSONRPCPeer, methods: JSONRPCMethods, configuration: JSONRPCConfiguration) {
        self.peer = peer
        self.methods = methods
        self.configuration = configuration
        self.scheduler = CallScheduler(maxRunning: configuration.maxConcurrentCalls, maxWaiting: configuration.maxConcurrentCalls)
    }

    /// Serves until the peer closes (or `session` returns and the close handshake ends);
    /// then cancels the calls still running and fails our calls still waiting.
    func run(
        _ inbound: WebSocketInbound, outbound: WebSocketOutbound,
        session: (@Sendable (JSONRPCPeer) async throws -> Void)?
    ) async throws {
        let peer = self.peer
        let logger = self.logger
        let sessionFailure = LockedError()
        try await withThrowingDiscardingTaskGroup { group in
            if let session {
                group.addTask {
                    do {
                        try await session(peer)
                        try? await outbound.close(.normalClosure)
                    } catch {
                        logger.debug("JSON-RPC session failed", metadata: ["error": "\(error)"])
                        sessionFailure.set(error)
                        try? await outbound.close(.internalServerError, reason: "session failed")
                    }
                }
            }
            do {
                for try await message in inbound {
                    await receive(message, group: &group)
                    await yieldAfterLargeMessage(of: message.data.readableBytes)
                }
            } catch {
                shutDown()
                throw error  // cancels the group's tasks
            }
            shutDown()
            group.cancelAll()
        }
        // A session that failed because the connection ended has nothing to report.
        if let error = sessionFailure.value, !(error is CancellationError), error as? JSONRPCCallError != .connectionClosed {
            throw error
        }
    }

    private func shutDown() {
        scheduler.close()
        peer.connectionClosed()
    }

    // MARK: Reading

    private func receive(_ message: WebSocketMessage, group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        let size = message.data.readableBytes
        guard size <= configuration.maxMessageSize else {
            let limit = configuration.maxMessageSize
            try? await peer.send(Envelope.error(.invalidRequest.with(data: "message of \(size) bytes exceeds the limit of \(limit)"), id: .null))
            return
        }
        let value: JSONValue
        do {
            let maxDepth = configuration.maxNestingDepth
            value = try message.data.withUnsafeReadableBytes { bytes throws(JSONParseError) in
                try JSONParser.parse(bytes, maxDepth: maxDepth, validateUTF8: message.kind == .binary)
            }
        } catch {
            logger.debug("JSON-RPC message is not JSON", metadata: ["error": "\(error)"])
            try? await peer.send(Envelope.error(error.isLimit ? .parseError.with(data: error.description) : .parseError, id: .null))
            return
        }

        guard case .array(let members) = value else {
            switch IncomingMessage(value) {
            case .call(let call):
                await schedule(Job(call: call, target: .message), group: &group)
            case .invalid(let id, let reason):
                logger.debug("JSON-RPC invalid request", metadata: ["reason": "\(reason)"])
                try? await peer.send(Envelope.error(.invalidRequest, id: id))
            case .response(let id, let outcome):
                deliver(outcome, to: id)
            case .ignored(let reason):
                logger.debug("JSON-RPC message ignored", metadata: ["reason": "\(reason)"])
            }
            return
        }
        await receiveBatch(members, group: &group)
    }

    private func receiveBatch(_ members: [JSONValue], group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        guard !members.isEmpty else {
            try? await peer.send(Envelope.error(.invalidRequest, id: .null))
            return
        }
        guard members.count <= configuration.maxBatchLength else {
            let limit = configuration.maxBatchLength
            try? await peer.send(Envelope.error(.invalidRequest.with(data: "batch of \(members.count) exceeds the limit of \(limit)"), id: .null))
            return
        }
        let messages = members.map(IncomingMessage.init)
        let answered = messages.count { message in
            switch message {
            case .call(let call): return call.id != nil
            case .invalid: return true
            case .response, .ignored: return false
            }
        }
        // An all-notification batch gets no reply at all (§6).
        let reply = BatchReply(count: answered)
        var slot = 0
        for message in messages {
            switch message {
            case .call(let call):
                if call.id != nil {
                    await schedule(Job(call: call, target: .batch(reply, slot: slot)), group: &group)
                    slot += 1
                } else {
                    await schedule(Job(call: call, target: .message), group: &group)
                }
            case .invalid(let id, let reason):
                logger.debug("JSON-RPC invalid request in a batch", metadata: ["reason": "\(reason)"])
                if let whole = reply.fill(slot, with: Envelope.error(.invalidRequest, id: id)) { try? await peer.send(whole) }
                slot += 1
            case .response(let id, let outcome):
                deliver(outcome, to: id)
            case .ignored(let reason):
                logger.debug("JSON-RPC batch member ignored", metadata: ["reason": "\(reason)"])
            }
        }
    }

    private func deliver(_ outcome: Result<JSONValue, JSONRPCError>, to id: JSONValue) {
        guard let number = id.intValue, peer.pending.complete(number, with: outcome.mapError { $0 }) else {
            logger.debug("JSON-RPC answer to no pending call", metadata: ["id": "\(id)"])
            return
        }
    }

    // MARK: Running calls

    /// Answers a call to a method that does not wait (or to no method) here and now; hands
    /// one to a method that awaits to a task of its own, under the scheduler's bounds.
    private func schedule(_ job: Job, group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        let call = job.call
        let method = methods.method(named: call.method)
        if case .awaiting(let body)? = method {
            await scheduler.schedule(Scheduled(job: job, body: body), in: &group) { await self.execute($0) }
            return
        }
        var response: [UInt8]?
        peer.telemetry.servedNow(method: method == nil ? nil : call.method, requestID: call.id.map { "\($0)" }) {
            guard case .immediate(let body)? = method else {
                response = call.id.map { Envelope.error(.methodNotFound, id: $0) }
                return .errorCode("\(JSONRPCError.methodNotFound.code)")
            }
            let outcome: CallTelemetry.Outcome
            (response, outcome) = answer(call, Result { try body(call.params, peer) })
            return outcome
        }
        await send(response, to: job.target)
    }

    private func execute(_ scheduled: Scheduled) async {
        let call = scheduled.job.call
        var response: [UInt8]?
        await peer.telemetry.served(method: call.method, requestID: call.id.map { "\($0)" }) {
            let result: Result<[UInt8], any Error>
            do {
                result = .success(try await scheduled.body(call.params, peer))
            } catch {
                result = .failure(error)
            }
            let outcome: CallTelemetry.Outcome
            (response, outcome) = answer(call, result)
            return outcome
        }
        await send(response, to: scheduled.job.target)
    }

    /// The response to `call` (none for a notification, or when the connection is gone) and
    /// how the call ended, from what its method returned or threw.
    private func answer(_ call: IncomingCall, _ result: Result<[UInt8], any Error>) -> ([UInt8]?, CallTelemetry.Outcome) {
        switch result {
        case .success(let encoded):
            return (call.id.map { Envelope.result(encoded, id: $0) }, .success)
        case .failure(let error as JSONRPCError):
            return (call.id.map { Envelope.error(error, id: $0) }, .errorCode("\(error.code)"))
        case .failure(let error):
            // Cancelled because the connection closed: there is nobody to answer.
            if Task.isCancelled { return (nil, .noAnswer("cancelled")) }
            logger.warning("JSON-RPC method failed", metadata: ["method": "\(call.method)", "error": "\(error)"])
            return (call.id.map { Envelope.error(.internalError, id: $0) }, .errorCode("\(JSONRPCError.internalError.code)"))
        }
    }

    private func send(_ response: [UInt8]?, to target: ReplyTarget) async {
        guard let response else { return }
        switch target {
        case .message:
            try? await peer.send(response)
        case .batch(let reply, let slot):
            if let whole = reply.fill(slot, with: response) { try? await peer.send(whole) }
        }
    }
}

/// The first error of a session, shared between its task and the connection.
private final class LockedError: Sendable {
    private let storage = Mutex<(any Error)?>(nil)
    func set(_ error: any Error) { storage.withLock { if $0 == nil { $0 = error } } }
    var value: (any Error)? { storage.withLock { $0 } }
}
