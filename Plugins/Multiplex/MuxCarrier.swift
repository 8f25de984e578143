import Logging
import NIOCore
import SwitchboardCore

/// Runs a ``MuxSession`` on a physical connection through the transport's
/// `WebSocketSessionHost`: each logical channel gets one of the host's endpoints
/// (the inbound sequence and outbound writer a socket's handler gets, with the same
/// backpressure), and each finished channel its close timer.
///
/// The session is sans-I/O; this is the adapter that gives it a clock and endpoints.
/// Everything here runs on the connection's event loop.
final class MuxCarrier: WebSocketSessionCarrier, MuxSessionHost {
    let session: MuxSession
    private weak var host: (any WebSocketSessionHost)?
    /// The implicit channel's extensions, adopted in the physical handshake.
    private let implicitExtensions: [String]
    private var endpoints: [LogicalChannelID: any WebSocketSessionEndpoint] = [:]
    private var closeTimers: [LogicalChannelID: Scheduled<Void>] = [:]

    init(session: MuxSession, host: any WebSocketSessionHost, implicitExtensions: [String]) {
        self.session = session
        self.host = host
        self.implicitExtensions = implicitExtensions
    }

    // MARK: WebSocketSessionCarrier

    func start() -> any WebSocketSessionEndpoint {
        let physical = session.setup
        var values = WebSocketContextValues()
        if physical.role == .client, let host {
            values[MuxChannelOpener.Key.self] = MuxChannelOpener(
                carrier: NIOLoopBound(self, eventLoop: host.eventLoop),
                physicalRequest: physical.request, openTimeout: host.handshakeTimeout)
        }
        let implicit = OpenedLogicalChannel(
            id: 1, request: physical.request, subprotocol: host?.context.subprotocol,
            extensions: implicitExtensions)
        let endpoint = makeEndpoint(implicit, values: values)
        session.start(host: self)
        return endpoint
    }

    func receive(_ message: WebSocketMessage) { session.receive(message) }

    func writabilityChanged() { session.physicalWritabilityChanged() }

    func connectionClosed() {
        session.physicalClosed()
        for timer in closeTimers.values { timer.cancel() }
        closeTimers.removeAll()
        endpoints.removeAll()
    }

    // MARK: Channels

    private func makeEndpoint(
        _ opened: OpenedLogicalChannel, values: WebSocketContextValues = WebSocketContextValues()
    ) -> any WebSocketSessionEndpoint {
        var logger = session.setup.logger
        logger[metadataKey: "channel"] = "\(opened.id)"
        let context = WebSocketContext(
            request: opened.request, subprotocol: opened.subprotocol, extensions: opened.extensions,
            role: session.setup.role, logger: logger, values: values)
        let endpoint = host!.makeEndpoint(context: context, delegate: MuxChannelLink(carrier: self, channel: opened.id))
        endpoints[opened.id] = endpoint
        return endpoint
    }

    /// The channel's handler closes it (or returned: `finished`); the close handshake is
    /// given the host's close timeout, after which the session drops the channel.
    func close(_ channel: LogicalChannelID, code: WebSocketCloseCode, reason: String, finished: Bool) {
        if finished {
            session.finish(channel, code: code, reason: reason)
        } else {
            session.close(channel, code: code, reason: reason)
        }
        guard closeTimers[channel] == nil, endpoints[channel] != nil, let host else { return }
        let bound = NIOLoopBound(self, eventLoop: host.eventLoop)
        closeTimers[channel] = host.eventLoop.scheduleTask(in: host.closeTimeout) {
            let carrier = bound.value
            carrier.closeTimers[channel] = nil
            carrier.session.closeTimedOut(channel)
            carrier.host?.flush()
        }
    }

    /// Client: opens a channel; the pending open settles with its endpoint. A server that
    /// never grants a slot or never answers fails the wait after `timeout`.
    func open(_ request: HandshakeRequest, subprotocols: [String], timeout: TimeAmount) -> PendingChannelOpen {
        let pending = PendingChannelOpen(eventLoop: host!.eventLoop, timeout: timeout)
        session.openChannel(request: request, subprotocols: subprotocols) { result in
            switch result {
            case .success(let opened):
                let endpoint = self.makeEndpoint(opened)
                if !pending.settle(endpoint.session) { self.close(opened.id, code: .normalClosure, reason: "", finished: true) }
            case .failure(let error):
                pending.fail(error)
            }
        }
        host?.flush()
        return pending
    }

    // MARK: MuxSessionHost

    func sendPhysical(_ message: WebSocketMessage) { host?.send(message) }

    var isPhysicalWritable: Bool { host?.isWritable ?? false }

    func channelOpened(_ channel: OpenedLogicalChannel, handler: any WebSocketHandler) {
        host?.run(handler, on: makeEndpoint(channel))
    }

    func deliver(_ message: WebSocketMessage, on channel: LogicalChannelID) -> Bool {
        endpoints[channel]?.deliver(message) ?? true
    }

    func inboundEnded(_ channel: LogicalChannelID, close: WebSocketCloseFrame?, failed: Bool) {
        endpoints[channel]?.endInbound(failed: failed)
    }

    func channelClosed(_ channel: LogicalChannelID) {
        endpoints.removeValue(forKey: channel)?.close()
        closeTimers.removeValue(forKey: channel)?.cancel()
    }

    func failPhysical(code: WebSocketCloseCode, reason: String) {
        host?.fail(code: code, reason: reason)
    }
}
