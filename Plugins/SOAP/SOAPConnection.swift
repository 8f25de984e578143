import Logging
import NIOCore
import SwitchboardCalls
import SwitchboardCore

/// One SOAP connection at work: reads envelopes, checks them by SOAP's processing rules,
/// runs the peer's requests concurrently under the configured bound, answers each as it
/// finishes, and hands answers to our own calls to the ``SOAPPeer``.
final class SOAPConnection: Sendable {
    struct Job: Sendable {
        var operation: SOAPOperations.Operation
        var body: XElement
        var headers: [XElement]
        var addressing: Addressing
    }

    let peer: SOAPPeer
    private let operations: SOAPOperations
    private let configuration: SOAPConfiguration
    private let scheduler: CallScheduler<Job>
    private var logger: Logger { peer.context.logger }
    private var version: SOAPVersion { peer.version }

    init(peer: SOAPPeer, operations: SOAPOperations, configuration: SOAPConfiguration) {
        self.peer = peer
        self.operations = operations
        self.configuration = configuration
        self.scheduler = CallScheduler(maxRunning: configuration.maxConcurrentCalls, maxWaiting: configuration.maxConcurrentCalls)
    }

    /// Serves until the peer closes (or `session` returns and the close handshake ends).
    func run(_ inbound: WebSocketInbound, outbound: WebSocketOutbound, session: (@Sendable (SOAPPeer) async throws -> Void)?) async throws {
        let peer = self.peer
        let logger = self.logger
        try await withThrowingDiscardingTaskGroup { group in
            if let session {
                group.addTask {
                    do {
                        try await session(peer)
                        try? await outbound.close(.normalClosure)
                    } catch {
                        logger.debug("SOAP session failed", metadata: ["error": "\(error)"])
                        try? await outbound.close(.internalServerError, reason: "session failed")
                    }
                }
            }
            defer {
                scheduler.close()
                peer.connectionClosed()
            }
            for try await message in inbound {
                guard message.kind == .text else {
                    // [MS-SWSB]'s binary encodings ([MC-NBFS]) are .NET's own; an envelope is text.
                    logger.info("SOAP binary message refused: envelopes are text messages")
                    try? await outbound.close(.unsupportedData, reason: "SOAP envelopes are text messages")
                    continue
                }
                await receive(message.data, group: &group)
                await yieldAfterLargeMessage(of: message.data.readableBytes)
            }
            group.cancelAll()
        }
    }

    // MARK: Reading

    private func receive(_ data: ByteBuffer, group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        guard data.readableBytes <= configuration.maxMessageSize else {
            let limit = configuration.maxMessageSize
            await reject(SOAPFault(.sender, reason: "an envelope of \(data.readableBytes) bytes exceeds the limit of \(limit)"))
            return
        }
        let root: XElement
        do {
            let limits = configuration.xmlLimits
            root = try data.withUnsafeReadableBytes { bytes throws(XMLParseError) in try XMLParser.parse(bytes, limits: limits) }
        } catch {
            await reject(SOAPFault(.sender, reason: Self.describe(error)))
            return
        }
        let envelope: SOAPEnvelope
        do {
            envelope = try SOAPEnvelope.read(root, expecting: version)
        } catch {
            await reject(error.fault, in: error.version)
            return
        }
        let addressing = Addressing(headers: envelope.headers)

        // Answers to our calls first: they may be faults about our own header blocks.
        if let relatesTo = addressing.relatesTo {
            guard let number = peer.callNumber(relatingTo: relatesTo) else {
                logger.debug("SOAP answer to no call of ours", metadata: ["RelatesTo": "\(relatesTo)"])
                return
            }
            deliver(envelope, to: number)
            return
        }
        let notUnderstood = self.notUnderstood(envelope.headers)
        guard notUnderstood.isEmpty else {
            let names = notUnderstood.map(\.description).joined(separator: ", ")
            var fault = SOAPFault(.mustUnderstand, reason: "header blocks not understood: \(names)")
            fault.notUnderstood = notUnderstood
            await reject(fault, answering: addressing)
            return
        }
        guard let first = envelope.body.first else {
            await reject(SOAPFault(.sender, reason: "the Body is empty"), answering: addressing)
            return
        }
        let isFault = first.name == version.name("Fault")
        if !isFault, let operation = operations.operation(for: first.name) {
            await schedule(Job(operation: operation, body: first, headers: envelope.headers, addressing: addressing), group: &group)
        } else if let number = peer.pending.oldest(), isFault || first.name.local.hasSuffix("Response") {
            // An answer without RelatesTo, from a peer that answers in order without WS-Addressing.
            deliver(envelope, to: number)
        } else if isFault {
            // Never answer a fault with a fault: two ends could bounce them forever.
            let fault = SOAPFault(first, version: version, scope: envelope.bodyScope)
            logger.debug("SOAP fault that answers no call of ours", metadata: ["fault": "\(fault.map { "\($0)" } ?? "unreadable")"])
        } else if let fallback = operations.fallback {
            await schedule(Job(operation: fallback, body: first, headers: envelope.headers, addressing: addressing), group: &group)
        } else {
            await reject(SOAPFault(.sender, reason: "no operation \(first.name) on this endpoint"), answering: addressing)
        }
    }

    private func deliver(_ envelope: SOAPEnvelope, to number: Int) {
        let answer: Result<XElement, SOAPFault>
        if let first = envelope.body.first, let fault = SOAPFault(first, version: version, scope: envelope.bodyScope) {
            answer = .failure(fault)
        } else if let first = envelope.body.first {
            answer = .success(first)
        } else {
            answer = .failure(SOAPFault(.receiver, reason: "the answer's Body is empty"))
        }
        if !peer.pending.complete(number, with: .success(answer)) {
            logger.debug("SOAP answer to a call no longer waiting", metadata: ["call": "\(number)"])
        }
    }

    /// The `mustUnderstand` header blocks aimed at us that neither this module nor the application processes.
    private func notUnderstood(_ headers: [XElement]) -> [XName] {
        headers.compactMap { header in
            let mustUnderstand = header.attribute(version.name("mustUnderstand")).map { $0 == "1" || (version == .soap12 && $0 == "true") } ?? false
            guard mustUnderstand, isAimedAtUs(header) else { return nil }
            if Addressing.understoodHeaders.contains(header.name) || configuration.understoodHeaders.contains(header.name) { return nil }
            return header.name
        }
    }

    /// Whether a header block's role (1.1 actor) is one this end plays: none given, `next`, or `ultimateReceiver`.
    private func isAimedAtUs(_ header: XElement) -> Bool {
        switch version {
        case .soap12:
            guard let role = header.attribute(version.name("role")) else { return true }
            return role == "http://www.w3.org/2003/05/soap-envelope/role/next"
                || role == "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
        case .soap11:
            guard let actor = header.attribute(version.name("actor")) else { return true }
            return actor == "http://schemas.xmlsoap.org/soap/actor/next"
        }
    }

    /// Answers a message that cannot be processed with `fault`, and logs why.
    private func reject(_ fault: SOAPFault, in faultVersion: SOAPVersion? = nil, answering addressing: Addressing = Addressing()) async {
        logger.debug("SOAP message refused", metadata: ["fault": "\(fault)"])
        guard !addressing.wantsNoReply else { return }
        try? await peer.send(faultEnvelope(fault, in: faultVersion ?? version, answering: addressing))
    }

    private func faultEnvelope(_ fault: SOAPFault, in faultVersion: SOAPVersion, answering addressing: Addressing) -> SOAPEnvelope {
        var headers = fault.headerBlocks(faultVersion, supported: version)
        if let messageID = addressing.messageID {
            headers += Addressing(action: Addressing.faultAction, relatesTo: messageID).headerBlocks
        }
        return SOAPEnvelope(version: faultVersion, headers: headers, body: [fault.element(faultVersion)])
    }

    static func describe(_ error: XMLParseError) -> String {
        switch error.kind {
        case .notWellFormed: "the message is not well-formed XML: \(error)"
        case .restricted: "the message uses XML that SOAP does not allow: \(error)"
        case .limit: "the message is past a limit of this endpoint: \(error)"
        }
    }

    // MARK: Running requests

    private func schedule(_ job: Job, group: inout ThrowingDiscardingTaskGroup<any Error>) async {
        await scheduler.schedule(job, in: &group) { await self.execute($0) }
    }

    private func execute(_ job: Job) async {
        let isOneWay = job.operation.output == nil && !job.operation.isFallback
        var answer: SOAPEnvelope?
        // A fallback's calls are `_OTHER`.
        await peer.telemetry.served(method: job.operation.isFallback ? nil : job.operation.name, requestID: nil) {
            do {
                let output = try await SOAPPeer.$requestHeaders.withValue(job.headers) { try await job.operation.run(job.body, peer) }
                guard let output, !job.addressing.wantsNoReply else { return .success }
                let action = job.operation.isFallback ? nil : "\(operations.namespace)/\(job.operation.name)Response"
                let addressing = Addressing(action: action, relatesTo: job.addressing.messageID)
                answer = SOAPEnvelope(version: version, headers: job.addressing.messageID == nil ? [] : addressing.headerBlocks, body: [output])
                return .success
            } catch let fault as SOAPFault {
                if isOneWay {
                    logger.debug("SOAP one-way operation failed", metadata: ["operation": "\(job.operation.name)", "fault": "\(fault)"])
                } else {
                    answer = faultEnvelope(fault, in: version, answering: job.addressing)
                }
                return .errorCode(fault.code.rawValue)
            } catch {
                // Cancelled because the connection closed: there is nobody to answer.
                if Task.isCancelled { return .noAnswer("cancelled") }
                logger.warning("SOAP operation failed", metadata: ["operation": "\(job.operation.name)", "error": "\(error)"])
                if !isOneWay {
                    answer = faultEnvelope(SOAPFault(.receiver, reason: "the operation failed"), in: version, answering: job.addressing)
                }
                return .errorCode(SOAPFault.Code.receiver.rawValue)
            }
        }
        if let answer { try? await peer.send(answer) }
    }
}
