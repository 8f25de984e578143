import Logging
import NIOCore
import SwitchboardCore

/// The multiplexing protocol of one physical connection, with no I/O: every
/// logical channel's engine, flow control both ways, the fair sharing of the
/// physical link, and opening, closing and dropping channels.
///
/// Physical data messages come in through ``receive(_:)``; everything goes out
/// through the host. Faults of the multiplexing layer fail the physical
/// connection (DropChannel on channel 0, then close 1011, as mod_pywebsocket
/// does); faults of one channel drop that channel (30xx) and the others live on.
final class MuxSession {
    struct PendingOpen {
        var request: HandshakeRequest
        var subprotocols: [String]
        var quota: Int
        var completion: (Result<OpenedLogicalChannel, any Error>) -> Void
    }

    let setup: MuxSessionSetup
    let configuration: MuxConfiguration
    var logger: Logger
    weak var host: (any MuxSessionHost)?
    var channels: [MuxChannelID: MuxChannel] = [:]
    /// Channels in the order the link serves them, round robin from `cursor`.
    var order: [MuxChannelID] = []
    var cursor = 0
    /// Control blocks to send together at the end of the current call.
    var controlOut: [MuxControlBlock] = []
    var failed = false
    /// Server: the headers delta-encoded requests apply to (the last identity request's, first the physical one's).
    var deltaBase: HandshakeRequest
    /// Server: slots granted and not yet used.
    var slotsAvailable = 0
    /// Client: slots the server granted, each with the send quota its channel starts with.
    var slots: [(count: Int, quota: Int)] = []
    /// Client: the server said to stop multiplexing (fallback NewChannelSlot).
    var fallback = false
    var pendingOpens: [MuxChannelID: PendingOpen] = [:]
    /// Client: opens waiting for a slot.
    var waitingOpens: [PendingOpen] = []
    var nextChannelID: UInt32 = 2
    /// Channel refusals, drops and failures the peer caused so far (``logPeerEvent(_:metadata:)``).
    var peerEventsLogged = 0
    /// Server: channel opens refused so far (``mayRefuse()``).
    var refusedChannels = 0
    private let implicitSendQuota: Int
    /// The implicit channel's extensions, negotiated in the physical handshake.
    private let implicitExtensions: [any WebSocketExtension]
    /// Client: the extensions each new channel offers.
    let channelExtensionFactories: [any WebSocketExtensionFactory]

    init(
        setup: MuxSessionSetup, configuration: MuxConfiguration, implicitSendQuota: Int,
        channelExtensions: [any WebSocketExtension], channelExtensionFactories: [any WebSocketExtensionFactory]
    ) {
        self.setup = setup
        self.configuration = configuration
        self.logger = setup.logger
        self.deltaBase = setup.request
        self.implicitSendQuota = implicitSendQuota
        self.implicitExtensions = channelExtensions
        self.channelExtensionFactories = channelExtensionFactories
    }

    func start(host: any MuxSessionHost) {
        self.host = host
        let engine = WebSocketEngine(
            role: setup.role, limits: setup.limits, extensions: implicitExtensions,
            framing: .frames, allocator: setup.allocator)
        // Server: the client's `quota` is what we may send on the implicit channel. Client: the
        // server grants it with FlowControl; what the server may send is the quota we offered.
        add(MuxChannel(id: .implicit, engine: engine, sendQuota: implicitSendQuota, receiveQuota: configuration.receiveWindow))
        if setup.role == .server {
            // mod_pywebsocket's client waits for both before it opens channels.
            slotsAvailable = configuration.maxChannels - 1
            controlOut.append(.flowControl(MuxFlowControl(channel: .implicit, quota: configuration.receiveWindow)))
            controlOut.append(.newChannelSlot(MuxNewChannelSlot(slots: slotsAvailable, initialQuota: configuration.receiveWindow)))
            flushControl()
        }
    }

    func add(_ channel: MuxChannel) {
        channels[channel.id] = channel
        order.append(channel.id)
        if channel.id != .implicit { MuxMetrics.of(setup.role).channelOpened() }
    }

    // MARK: Receiving

    func receive(_ message: WebSocketMessage) {
        guard !failed else { return }
        do {
            switch try MuxMessage.content(of: message) {
            case .controlBlocks(var blocks):
                while blocks.readableBytes > 0, !failed { try handle(MuxControlBlock.read(from: &blocks)) }
            case .frame(let id, let frame):
                receive(frame, on: id)
            }
        } catch {
            fail(error)
            return
        }
        flushControl()
        pump()
    }

    private func handle(_ block: MuxControlBlock) throws(MuxWireError) {
        switch block {
        case .addChannelRequest(let request):
            guard setup.role == .server else { throw MuxWireError(.invalidMuxControlBlock, "AddChannelRequest sent to a client") }
            accept(request)
        case .addChannelResponse(let response):
            guard setup.role == .client else { throw MuxWireError(.invalidMuxControlBlock, "AddChannelResponse sent to a server") }
            try complete(response)
        case .flowControl(let grant):
            guard let quota = channels[grant.channel]?.sendQuota else { return }  // a channel that just ended
            guard quota <= Int.max - grant.quota else {
                drop(grant.channel, .sendQuotaOverflow, "FlowControl takes the send quota past 2^63 - 1")
                return
            }
            channels[grant.channel]!.sendQuota += grant.quota
        case .dropChannel(let drop):
            guard !drop.channel.isControl else {
                logger.info(
                    "peer failed the multiplexed connection",
                    metadata: [
                        "code": "\(drop.reason?.code.description ?? "none")",
                        "reason": "\(drop.reason?.message ?? "")",
                    ])
                failed = true
                endAll()
                host?.failPhysical(code: .normalClosure, reason: "")
                return
            }
            logger.debug("peer dropped channel", metadata: ["channel": "\(drop.channel)", "code": "\(drop.reason?.code.description ?? "none")"])
            if let open = pendingOpens.removeValue(forKey: drop.channel) {
                open.completion(
                    .failure(MultiplexError.channelRefused("the server dropped the channel (\(drop.reason?.code.description ?? "no code"))")))
            }
            // Acknowledge with 3008, as mod_pywebsocket does; an acknowledgement, or a drop of a
            // channel already gone (the answer to ours), gets none, so two ends never loop.
            if channels[drop.channel] != nil, drop.reason?.code != .dropChannelAcknowledged {
                controlOut.append(.dropChannel(MuxDropChannel(channel: drop.channel, reason: .init(.dropChannelAcknowledged))))
            }
            remove(drop.channel)
        case .newChannelSlot(let grant):
            guard setup.role == .client else { throw MuxWireError(.invalidMuxControlBlock, "NewChannelSlot sent to a server") }
            if grant.fallback {
                fallback = true
                slots.removeAll()
                for open in waitingOpens { open.completion(.failure(MultiplexError.channelRefused("the server asked to stop multiplexing"))) }
                waitingOpens.removeAll()
                return
            }
            let total = slots.reduce(0) { $0 + $1.count }
            guard total <= Int(UInt32.max) - grant.slots else { throw MuxWireError(.newChannelSlotOverflow, "more slots than channel IDs") }
            if grant.slots > 0 { slots.append((grant.slots, grant.initialQuota)) }
            openWaiting()
        }
    }

    /// Runs `body` on a channel in place. A copy taken out of the table would share
    /// the engine's buffers with it, and the message being assembled would be
    /// copied on every write (quadratic in the message's pieces). `body` must not
    /// touch `channels`.
    @discardableResult
    func withChannel<R>(_ id: MuxChannelID, _ body: (inout MuxChannel) -> R) -> R? {
        guard channels[id] != nil else { return nil }
        return body(&channels[id]!)
    }

    /// What a received frame did to its channel, for what must happen outside `withChannel`.
    private enum FrameOutcome {
        case done
        case drop(MuxDropCode, String)
    }

    private func receive(_ frame: WireFrame, on id: MuxChannelID) {
        let outcome = withChannel(id) { channel -> FrameOutcome in
            let cost = MuxChannel.cost(frame)
            guard cost <= channel.receiveQuota else {
                return .drop(.sendQuotaViolation, "peer sent \(cost) bytes with \(channel.receiveQuota) of quota")
            }
            channel.receiveQuota -= cost
            // While the application is behind, frames wait undecoded: within the quota the
            // peer still had, they are a few kilobytes, where decoded (permessage-deflate
            // inside the channel) they could be gigabytes.
            guard !channel.held else {
                channel.heldFrames.append(frame)
                return .done
            }
            return consume(frame, on: &channel)
        }
        finish(outcome, on: id)
    }

    /// Decodes one frame on a channel and gives the application what it completes.
    private func consume(_ frame: WireFrame, on channel: inout MuxChannel) -> FrameOutcome {
        channel.credit += MuxChannel.cost(frame)
        var whole: WireFrame? = frame
        if var control = channel.controlInProgress {
            guard frame.opcode == .continuation else { return .drop(.badFragmentation, "a new frame inside a split control frame") }
            // Out of the channel before it grows, so the buffer is not copied for every piece.
            channel.controlInProgress = nil
            guard control.payload.readableBytes + frame.payload.readableBytes <= MuxChannel.maxControlPayload else {
                return .drop(.logicalChannelFailed, "a split control frame longer than \(MuxChannel.maxControlPayload) bytes")
            }
            control.payload.writeImmutableBuffer(frame.payload)
            control.fin = frame.fin
            channel.controlInProgress = frame.fin ? nil : control
            whole = frame.fin ? control : nil
        } else if frame.opcode.isControl && !frame.fin {
            guard frame.payload.readableBytes <= MuxChannel.maxControlPayload else {
                return .drop(.logicalChannelFailed, "a control frame longer than \(MuxChannel.maxControlPayload) bytes")
            }
            var copy = setup.allocator.buffer(capacity: MuxChannel.maxControlPayload)
            copy.writeImmutableBuffer(frame.payload)
            channel.controlInProgress = WireFrame(fin: false, reservedBits: frame.reservedBits, opcode: frame.opcode, payload: copy)
            whole = nil
        }
        if let whole {
            for event in channel.engine.receive(frame: whole) { handle(event, on: &channel) }
        }
        channel.collectOutbound()
        guard channel.pendingControlBytes <= configuration.maxPendingControlBytes else {
            return .drop(.logicalChannelFailed, "control frames pile up: the peer grants no send quota")
        }
        if !channel.held { grantCredit(&channel) }
        return .done
    }

    /// Acts on what receiving did to a channel, outside `withChannel`.
    private func finish(_ outcome: FrameOutcome?, on id: MuxChannelID) {
        switch outcome {
        case nil:
            logger.debug("frame for a channel that is not open", metadata: ["channel": "\(id)"])
        case .drop(let code, let message)?:
            drop(id, code, message)
        case .done?:
            retireIfDone(id)
        }
    }

    private func handle(_ event: WebSocketEvent, on channel: inout MuxChannel) {
        switch event {
        case .message(let message):
            guard !channel.inboundEnded, let host else { return }
            if !host.deliver(message, on: channel.id.rawValue) { channel.held = true }
        case .ping, .pong:
            break  // the engine queued the pong
        case .closed(let close):
            endInbound(&channel, close: close, failed: false)
            // The handler already returned: answer now (echoing the code, §5.5.1).
            if channel.finished && channel.engine.closeState == .closeReceived { channel.engine.close() }
        case .failed(let error):
            logPeerEvent(
                "peer broke the protocol on a channel",
                metadata: [
                    "channel": "\(channel.id)", "code": "\(error.closeCode)",
                    "error": "\(error.reason)",
                ])
            channel.engine.close(code: error.closeCode, reason: error.reason)
            endInbound(&channel, close: nil, failed: true)
        }
    }

    func endInbound(_ channel: inout MuxChannel, close: WebSocketCloseFrame?, failed: Bool) {
        guard !channel.inboundEnded else { return }
        channel.inboundEnded = true
        host?.inboundEnded(channel.id.rawValue, close: close, failed: failed)
    }

    /// Gives the peer back the quota it spent on what was consumed.
    func grantCredit(_ channel: inout MuxChannel) {
        guard channel.credit > 0, channel.engine.closeState == .open || channel.engine.closeState == .closeSent else { return }
        controlOut.append(.flowControl(MuxFlowControl(channel: channel.id, quota: channel.credit)))
        channel.receiveQuota += channel.credit
        channel.credit = 0
    }

    /// The application took what it was given: decode the frames held for it, until it is
    /// behind again, then give the peer back the quota they cost.
    func readMore(_ channel: LogicalChannelID) {
        guard let id = MuxChannelID(channel) else { return }
        let outcome = withChannel(id) { state -> FrameOutcome in
            state.held = false
            while !state.held, let frame = state.heldFrames.popFirst() {
                let outcome = consume(frame, on: &state)
                if case .drop = outcome { return outcome }
            }
            if !state.held { grantCredit(&state) }
            return .done
        }
        finish(outcome, on: id)
        flushControl()
        pump()
    }

    // MARK: Ending

    /// Fails the physical connection: DropChannel on channel 0, then the host closes it.
    func fail(_ error: MuxWireError) {
        logger.info("multiplexing failed", metadata: ["code": "\(error.code)", "error": "\(error.reason)"])
        failed = true
        controlOut = [.dropChannel(MuxDropChannel(failing: error))]
        flushControl()
        endAll()
        host?.failPhysical(code: error.physicalCloseCode, reason: error.reason)
    }

    func physicalClosed() {
        failed = true
        endAll()
    }

    private func endAll() {
        for id in order { remove(id, replenish: false) }
        for open in pendingOpens.values + waitingOpens { open.completion(.failure(WebSocketError.connectionClosed)) }
        pendingOpens.removeAll()
        waitingOpens.removeAll()
    }

    /// Sends the control blocks gathered so far as one physical message.
    func flushControl() {
        guard !controlOut.isEmpty, let host else { return }
        let message = MuxMessage.control(controlOut)
        controlOut.removeAll()
        host.sendPhysical(.binary(message.payload(allocator: setup.allocator)))
    }
}
