import Logging
import NIOCore
import SwitchboardCore

extension MuxSession {
    // MARK: Server

    /// Runs an AddChannelRequest's handshake through the server's checks and answers it.
    func accept(_ block: MuxAddChannelRequest) {
        let id = block.channel
        guard channels[id] == nil, id != .implicit else {
            fail(MuxWireError(.channelAlreadyExists, "AddChannelRequest for open channel \(id)"))
            return
        }
        guard slotsAvailable > 0 else {
            guard mayRefuse() else { return }
            drop(id, .newChannelSlotViolation, "no channel slot was granted")
            return
        }
        let outcome: WebSocketServerHandshake.Outcome
        let request: HandshakeRequest
        do {
            request = try MuxChannelHandshake.request(from: block, base: deltaBase, limit: configuration.maxHandshakeSize)
            outcome =
                setup.acceptChannel?(MuxChannelHandshake.settled(request))
                ?? .reject(HandshakeRejection(status: 500, reason: "this server cannot open channels"))
        } catch {
            outcome = .reject(error)
            request = deltaBase
        }
        switch outcome {
        case .reject(let rejection):
            guard mayRefuse() else { return }
            logPeerEvent(
                "channel handshake refused", metadata: ["channel": "\(id)", "status": "\(rejection.status)", "reason": "\(rejection.reason)"])
            controlOut.append(
                .addChannelResponse(
                    MuxAddChannelResponse(
                        channel: id, rejected: true,
                        handshake: MuxChannelHandshake.rejectedResponse(rejection))))
        case .accept(let accepted):
            slotsAvailable -= 1
            if block.encoding == .identity { deltaBase = request }
            let engine = WebSocketEngine(
                role: .server, limits: setup.limits, extensions: accepted.extensions, framing: .frames,
                allocator: setup.allocator)
            // Our send quota starts at 0 until the client grants some (draft 06, as mod_pywebsocket).
            add(MuxChannel(id: id, engine: engine, sendQuota: 0, receiveQuota: configuration.receiveWindow))
            controlOut.append(.addChannelResponse(MuxAddChannelResponse(channel: id, handshake: MuxChannelHandshake.acceptedResponse(accepted))))
            flushControl()
            let opened = OpenedLogicalChannel(
                id: id.rawValue, request: request, subprotocol: accepted.subprotocol,
                extensions: accepted.extensions.map(\.name))
            logger.debug(
                "channel opened", metadata: ["channel": "\(id)", "path": "\(request.path)", "subprotocol": "\(accepted.subprotocol ?? "none")"])
            host?.channelOpened(opened, handler: accepted.handler)
        }
    }

    /// Counts a refused channel open; past ``MuxConfiguration/maxRefusedChannels`` fails the
    /// connection instead (1008) and returns `false`. Every refusal is answered, so without this
    /// bound one message of tiny requests makes an answer many times its size.
    func mayRefuse() -> Bool {
        refusedChannels += 1
        MuxMetrics.of(setup.role).refused()
        guard refusedChannels > configuration.maxRefusedChannels else { return true }
        fail(
            MuxWireError(
                .physicalConnectionFailed, "more than \(configuration.maxRefusedChannels) channel opens refused",
                physicalCloseCode: .policyViolation))
        return false
    }

    // MARK: Client

    func openChannel(
        request: HandshakeRequest, subprotocols: [String],
        completion: @escaping (Result<OpenedLogicalChannel, any Error>) -> Void
    ) {
        guard setup.role == .client else { return completion(.failure(MultiplexError.channelRefused("only a client opens channels"))) }
        guard !failed else { return completion(.failure(WebSocketError.connectionClosed)) }
        guard !fallback else { return completion(.failure(MultiplexError.channelRefused("the server asked to stop multiplexing"))) }
        guard channels.count + pendingOpens.count + waitingOpens.count < configuration.maxChannels else {
            return completion(.failure(MultiplexError.channelRefused("\(configuration.maxChannels) channels are open or opening")))
        }
        var request = request
        if let offer = ExtensionNegotiation.clientOfferHeader(channelExtensionFactories) {
            request.headers.replaceOrAdd(name: "Sec-WebSocket-Extensions", value: offer)
        }
        // Slots may still be on their way right after the handshake: wait for one.
        waitingOpens.append(PendingOpen(request: request, subprotocols: subprotocols, quota: 0, completion: completion))
        openWaiting()
        flushControl()
    }

    /// Sends an AddChannelRequest for each waiting open that a slot can take.
    func openWaiting() {
        while !waitingOpens.isEmpty, !slots.isEmpty {
            var open = waitingOpens.removeFirst()
            open.quota = slots[0].quota
            slots[0].count -= 1
            if slots[0].count == 0 { slots.removeFirst() }
            while channels[MuxChannelID(nextChannelID)!] != nil || pendingOpens[MuxChannelID(nextChannelID)!] != nil {
                nextChannelID = nextChannelID == MuxChannelID.maxRawValue ? 2 : nextChannelID + 1
            }
            let id = MuxChannelID(nextChannelID)!
            nextChannelID = nextChannelID == MuxChannelID.maxRawValue ? 2 : nextChannelID + 1
            pendingOpens[id] = open
            controlOut.append(.addChannelRequest(MuxAddChannelRequest(channel: id, handshake: MuxChannelHandshake.clientRequest(open.request))))
        }
    }

    /// Completes an open with the server's AddChannelResponse.
    func complete(_ response: MuxAddChannelResponse) throws(MuxWireError) {
        guard let open = pendingOpens.removeValue(forKey: response.channel) else {
            // mod_pywebsocket 0.7.9 sends a refusal twice; an answer to nothing we asked is dropped.
            logger.debug("AddChannelResponse for a channel not being opened", metadata: ["channel": "\(response.channel)"])
            return
        }
        let negotiated: (subprotocol: String?, extensions: [any WebSocketExtension])
        do {
            negotiated = try MuxChannelHandshake.validate(
                response: response, subprotocols: open.subprotocols,
                factories: channelExtensionFactories, limit: configuration.maxHandshakeSize)
        } catch {
            if !response.rejected {
                controlOut.append(.dropChannel(MuxDropChannel(channel: response.channel, reason: .init(.logicalChannelFailed, message: "\(error)"))))
            }
            open.completion(.failure(error))
            return
        }
        let engine = WebSocketEngine(
            role: .client, limits: setup.limits, extensions: negotiated.extensions, framing: .frames,
            allocator: setup.allocator)
        add(MuxChannel(id: response.channel, engine: engine, sendQuota: open.quota, receiveQuota: configuration.receiveWindow))
        controlOut.append(.flowControl(MuxFlowControl(channel: response.channel, quota: configuration.receiveWindow)))
        open.completion(
            .success(
                OpenedLogicalChannel(
                    id: response.channel.rawValue, request: open.request, subprotocol: negotiated.subprotocol,
                    extensions: negotiated.extensions.map(\.name))))
    }
}
