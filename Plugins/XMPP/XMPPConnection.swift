import Logging
import NIOCore
import SwitchboardCore
import Synchronization

extension XMPPServer {
    /// One client's connection: reads its messages into the stream machine, carries out the
    /// machine's actions, and holds the stanza rate limit.
    final class Connection: Sendable {
        private struct State {
            var machine: XMPPServerStream
            var jid: JID?
            var closed = false
            /// Token bucket: stanzas that may still be sent now.
            var tokens: Double
            var refilled: ContinuousClock.Instant
            /// Bytes of stanzas routed here and not yet written: bounded by `maxQueuedBytes`.
            var queuedBytes = 0
            /// A stanza was dropped for a full queue (logged once at info).
            var dropped = false
        }

        private let server: XMPPServer
        private let outbound: WebSocketOutbound
        private let context: WebSocketContext
        private let deliver: AsyncStream<Delivery>.Continuation
        private let state: Mutex<State>
        private let sessionID: Int
        private var logger: Logger { context.logger }

        init(server: XMPPServer, outbound: WebSocketOutbound, context: WebSocketContext, deliver: AsyncStream<Delivery>.Continuation) {
            self.server = server
            self.outbound = outbound
            self.context = context
            self.deliver = deliver
            var random = SystemRandomNumberGenerator()
            let streamID = String(random.next(), radix: 36)
            self.sessionID = Int(truncatingIfNeeded: random.next())
            let configuration = server.configuration
            let plain =
                configuration.allowsPlainOverInsecureTransport || context.request.isSecure || XMPPServer.isLoopback(context.request.remoteAddress)
            self.state = Mutex(
                State(
                    machine: XMPPServerStream(
                        domain: configuration.domain, offersPlain: plain, streamID: streamID,
                        maxAuthenticationAttempts: configuration.maxAuthenticationAttempts),
                    tokens: Double(2 * configuration.maxStanzasPerSecond), refilled: .now))
        }

        func read(_ inbound: WebSocketInbound) async throws {
            let configuration = server.configuration
            for try await message in inbound {
                if state.withLock({ $0.closed }) { continue }  // drain until the peer closes
                guard message.kind == .text else {
                    await fail(.unsupportedEncoding, "RFC 7395 §3.2: XMPP is sent in text messages")
                    continue
                }
                guard message.data.readableBytes <= configuration.maxStanzaSize else {
                    await fail(
                        .policyViolation, "a stanza of \(message.data.readableBytes) bytes exceeds the limit of \(configuration.maxStanzaSize)")
                    continue
                }
                guard takeToken() else {
                    await fail(.policyViolation, "more than \(configuration.maxStanzasPerSecond) stanzas per second")
                    continue
                }
                let element: XElement
                do {
                    let limits = configuration.xmlLimits
                    element = try message.data.withUnsafeReadableBytes { bytes throws(XMLParseError) in try XMLParser.parse(bytes, limits: limits) }
                } catch {
                    switch error.kind {
                    case .notWellFormed: await fail(.notWellFormed, error.description)
                    case .restricted: await fail(.restrictedXML, error.description)
                    case .limit: await fail(.policyViolation, error.description)
                    }
                    continue
                }
                await perform(state.withLock { $0.machine.receive(element) })
            }
        }

        /// The stream machine's actions, carried out in order.
        private func perform(_ actions: [XMPPServerStream.Action]) async {
            for action in actions {
                switch action {
                case .send(let element):
                    try? await send(element)
                case .lookUpCredentials(let username, let mechanism):
                    let found = await server.accounts.credentials(of: username, for: mechanism)
                    await perform(state.withLock { $0.machine.credentials(found) })
                case .authenticated(let username):
                    logger.debug("XMPP authenticated", metadata: ["user": "\(username)"])
                case .bind(let requested, let iqID):
                    guard case .binding(let username) = state.withLock({ $0.machine.state }) else { continue }
                    let deliver = self.deliver
                    let id = sessionID
                    let connection = self
                    let outcome = server.router.bind(username: username, requested: requested) { jid in
                        XMPPRouter.Session(
                            jid: jid, id: id, deliver: { connection.enqueue($0) }, terminate: { deliver.yield(.terminate($0)) })
                    }
                    switch outcome {
                    case .success(let jid):
                        state.withLock { $0.jid = jid }
                        await perform(state.withLock { $0.machine.bound(jid, iqID: iqID) })
                    case .failure(let error):
                        await perform(state.withLock { $0.machine.fail(error.condition, error.text) })
                    }
                case .route(let stanza):
                    guard let jid = state.withLock({ $0.jid }) else { continue }
                    await server.router.route(stanza, from: jid)
                case .close(let error):
                    if let error {
                        logger.info("XMPP stream error", metadata: ["error": "\(error)", "peer": "\(context.request.remoteAddress ?? "?")"])
                    }
                    state.withLock { $0.closed = true }
                    // The error went in-band as <stream:error/> and <close/> (RFC 7395 §3.6): the socket closes normally.
                    try? await outbound.close(.normalClosure, reason: error?.condition.rawValue ?? "")
                }
            }
        }

        func send(_ element: XElement) async throws {
            var out: [UInt8] = []
            if element == XMPPServerStream.closeElement { out = Array(XMPPServerStream.closeText.utf8) } else { XMLWriter.write(element, to: &out) }
            try await outbound.send(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: out)))
        }

        /// Queues a stanza routed to this client. A client that does not read would otherwise
        /// let every sender's stanzas pile up here: past `maxQueuedBytes` they are dropped.
        func enqueue(_ stanza: XElement) {
            var bytes: [UInt8] = []
            XMLWriter.write(stanza, to: &bytes)
            let limit = server.configuration.maxQueuedBytes
            let (admitted, firstDrop): (Bool, Bool) = state.withLock { state in
                guard state.queuedBytes + bytes.count <= limit else {
                    defer { state.dropped = true }
                    return (false, !state.dropped)
                }
                state.queuedBytes += bytes.count
                return (true, false)
            }
            if admitted {
                deliver.yield(.stanza(bytes))
            } else if firstDrop {
                logger.info("XMPP stanzas dropped: the client does not read", metadata: ["limit": "\(limit)"])
            }
        }

        /// Writes a queued stanza, then takes it off the count.
        func write(queued bytes: [UInt8]) async {
            try? await outbound.send(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: bytes)))
            state.withLock { $0.queuedBytes -= bytes.count }
        }

        /// A stream error from this side: the error, `<close/>`, the WebSocket close.
        func fail(_ condition: XMPPStreamError.Condition, _ text: String) async {
            guard !state.withLock({ $0.closed }) else { return }
            await perform(state.withLock { $0.machine.fail(condition, text) })
        }

        /// Another connection ended this one (a login took its resource), or the server is shutting down.
        func end(with error: XMPPStreamError) async { await fail(error.condition, error.text) }

        /// Ends the stream with `connection-timeout` unless it has bound a resource by `loginTimeout`.
        func enforceLoginTimeout() async {
            let timeout = server.configuration.loginTimeout
            guard (try? await Task.sleep(for: timeout)) != nil, !state.withLock({ $0.machine.isEstablished || $0.closed }) else { return }
            await fail(.connectionTimeout, "no resource bound within \(timeout)")
        }

        /// The socket is gone: leave the router.
        func finished() async {
            guard let jid = state.withLock({ $0.jid }) else { return }
            let id = sessionID
            await server.router.unbind(jid) { $0.id == id }
        }

        private func takeToken() -> Bool {
            let rate = Double(server.configuration.maxStanzasPerSecond)
            return state.withLock { state in
                let now = ContinuousClock.now
                let elapsed = now - state.refilled
                state.refilled = now
                state.tokens = min(
                    2 * rate, state.tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                guard state.tokens >= 1 else { return false }
                state.tokens -= 1
                return true
            }
        }
    }
}
