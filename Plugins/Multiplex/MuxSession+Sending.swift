import Logging
import NIOCore
import SwitchboardCore

extension MuxSession {
    func send(_ message: WebSocketMessage, on channel: LogicalChannelID, completion: @escaping (Result<Void, WebSocketError>) -> Void) {
        guard !failed, let id = MuxChannelID(channel), channels[id] != nil else { return completion(.failure(.connectionClosed)) }
        withChannel(id) { state in
            do throws(WebSocketError) {
                try state.engine.send(message)
                state.collectOutbound(completion: completion)
            } catch {
                completion(.failure(error))
            }
        }
        pump()
    }

    func ping(_ payload: ByteBuffer, on channel: LogicalChannelID) throws(WebSocketError) {
        guard !failed, let id = MuxChannelID(channel), channels[id] != nil else { throw .connectionClosed }
        let result: Result<Void, WebSocketError>? = withChannel(id) { state in
            do throws(WebSocketError) {
                try state.engine.ping(payload)
                state.collectOutbound()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error)? = result { throw error }
        pump()
    }

    func close(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String) {
        guard let id = MuxChannelID(channel) else { return }
        withChannel(id) { state in
            if state.engine.closeState == .open { state.engine.close(code: code, reason: reason) }
            state.collectOutbound()
        }
        pump()
    }

    func finish(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String) {
        guard let id = MuxChannelID(channel), channels[id] != nil else { return }
        withChannel(id) { state in
            state.finished = true
            // In closeReceived this answers the peer's close with its code; after a failure
            // the close already went out; otherwise it starts the closing handshake.
            state.engine.close(code: code, reason: reason)
            state.collectOutbound()
        }
        pump()
        retireIfDone(id)
        flushControl()
    }

    func closeTimedOut(_ channel: LogicalChannelID) {
        guard let id = MuxChannelID(channel), channels[id] != nil else { return }
        logger.info("channel close handshake timed out; dropping it", metadata: ["channel": "\(id)"])
        drop(id, .logicalChannelFailed, "close handshake timed out")
        flushControl()
    }

    func physicalWritabilityChanged() {
        pump()
    }

    /// Sends queued frames while the physical connection takes them, one piece
    /// per channel in turn, each piece within the channel's send quota and at
    /// most ``MuxConfiguration/maxFragmentSize``: a large message on one channel
    /// delays another channel's message by one piece, not by itself.
    func pump() {
        guard !failed, let host else { return }
        var idle = 0
        while host.isPhysicalWritable, !order.isEmpty, idle < order.count {
            if cursor >= order.count { cursor = 0 }
            let id = order[cursor]
            cursor += 1
            let limit = configuration.maxFragmentSize
            guard
                let (frame, completion, more) = withChannel(
                    id, { state in state.nextPiece(limit: limit).map { ($0.frame, $0.completion, state.hasQueued) } })
                    ?? nil
            else {
                idle += 1
                continue
            }
            idle = 0
            host.sendPhysical(.binary(MuxMessage.frame(id, frame).payload(allocator: setup.allocator)))
            completion?(.success(()))
            if !more { retireIfDone(id) }
        }
    }

    /// Removes a channel whose close handshake is over and whose last frames are out.
    func retireIfDone(_ id: MuxChannelID) {
        guard let state = channels[id], state.engine.closeState == .closed, !state.hasQueued else { return }
        remove(id)
    }

    /// Drops a channel at once (DropChannel with `code`); the others go on.
    func drop(_ id: MuxChannelID, _ code: MuxDropCode, _ message: String) {
        logPeerEvent("dropping channel", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(message)"])
        controlOut.append(.dropChannel(MuxDropChannel(channel: id, reason: .init(code, message: message))))
        remove(id)
    }

    /// Forgets a channel: its application's inbound ends, its sends fail, and a
    /// server grants the client a slot in its place.
    func remove(_ id: MuxChannelID, replenish: Bool = true) {
        guard var state = channels.removeValue(forKey: id) else { return }
        if id != .implicit { MuxMetrics.of(setup.role).channelClosed() }
        if let index = order.firstIndex(of: id) {
            order.remove(at: index)
            if cursor > index { cursor -= 1 }
        }
        state.failQueued()
        endInbound(&state, close: nil, failed: state.engine.closeState != .closed)
        host?.channelClosed(id.rawValue)
        if replenish && setup.role == .server && id != .implicit && !failed {
            slotsAvailable += 1
            controlOut.append(.newChannelSlot(MuxNewChannelSlot(slots: 1, initialQuota: configuration.receiveWindow)))
        }
    }
}
