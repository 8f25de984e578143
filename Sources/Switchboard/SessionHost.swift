import NIOCore
import SwitchboardCore

/// Hosts the ``WebSocketSessionCarrier`` of a connection that negotiated a
/// ``WebSocketSessionExtension``: every data message goes to the carrier, and the
/// handlers of its sessions run in the connection's task group.
///
/// Everything here runs on the connection's event loop. It knows no carrying scheme:
/// the carrier decides what a message means and which sessions exist.
final class SessionHost: WebSocketSessionHost {
    /// A handler to run on a session's endpoint, in the connection's task group.
    struct Start: Sendable {
        var handler: any WebSocketHandler
        var session: WebSocketSession
        /// The endpoint's queue, through which the handler's end is queued after its messages.
        var outbound: OutboundQueue
    }

    let context: WebSocketContext
    let configuration: WebSocketConnectionConfiguration
    let handshakeTimeout: TimeAmount
    let eventLoop: any EventLoop
    let allocator: ByteBufferAllocator
    let evaluate: (@Sendable (HandshakeRequest) -> WebSocketServerHandshake.Outcome)?
    /// Server: sessions the carrier started, in order; ends when the connection closes.
    let starts: AsyncStream<Start>
    private let startsContinuation: AsyncStream<Start>.Continuation
    private weak var sink: (any ConnectionSink)?
    private var carrier: (any WebSocketSessionCarrier)?
    private var endpoints: [ObjectIdentifier: SessionEndpoint] = [:]
    private var ended = false

    var limits: WebSocketLimits { configuration.limits }
    var closeTimeout: TimeAmount { configuration.closeTimeout }

    init(context: WebSocketContext, configuration: WebSocketConnectionConfiguration, plan: SessionPlan, channel: any Channel) {
        self.context = context
        self.configuration = configuration
        self.handshakeTimeout = plan.handshakeTimeout
        self.eventLoop = channel.eventLoop
        self.allocator = channel.allocator
        self.evaluate = plan.evaluate
        (starts, startsContinuation) = AsyncStream.makeStream(of: Start.self)
    }

    /// Starts the carrier once `sink` is in the pipeline; returns where the connection's
    /// own `handler` runs.
    func start(_ carrier: any WebSocketSessionCarrier, sink: any ConnectionSink, handler: any WebSocketHandler) -> Start {
        self.carrier = carrier
        self.sink = sink
        let primary = carrier.start()
        flush()
        return makeStart(handler, on: primary)
    }

    // MARK: From the connection

    func receive(_ message: WebSocketMessage) {
        carrier?.receive(message)
    }

    func writabilityChanged() {
        carrier?.writabilityChanged()
        flush()
    }

    /// The connection is closing or gone: every session ends, and no more start.
    func connectionClosed() {
        guard !ended else { return }
        ended = true
        carrier?.connectionClosed()
        for endpoint in endpoints.values { endpoint.close() }
        endpoints.removeAll()
        startsContinuation.finish()
    }

    /// A closed endpoint leaves the host.
    func forget(_ endpoint: SessionEndpoint) {
        endpoints[ObjectIdentifier(endpoint)] = nil
    }

    // MARK: WebSocketSessionHost

    func send(_ message: WebSocketMessage) { sink?.sendMessage(message) }

    var isWritable: Bool { sink?.isWritable ?? false }

    func flush() { sink?.flushPending() }

    func fail(code: WebSocketCloseCode, reason: String) {
        sink?.failConnection(code: code, reason: reason)
        connectionClosed()
    }

    func makeEndpoint(context: WebSocketContext, delegate: any WebSocketSessionDelegate) -> any WebSocketSessionEndpoint {
        let endpoint = SessionEndpoint(context: context, delegate: delegate, host: self, configuration: configuration)
        if ended { endpoint.close() } else { endpoints[ObjectIdentifier(endpoint)] = endpoint }
        return endpoint
    }

    func run(_ handler: any WebSocketHandler, on endpoint: any WebSocketSessionEndpoint) {
        guard !ended else { return }
        startsContinuation.yield(makeStart(handler, on: endpoint))
    }

    private func makeStart(_ handler: any WebSocketHandler, on endpoint: any WebSocketSessionEndpoint) -> Start {
        guard let endpoint = endpoint as? SessionEndpoint else {
            preconditionFailure("a session's endpoint must come from its host's makeEndpoint(context:delegate:)")
        }
        return Start(handler: handler, session: endpoint.session, outbound: endpoint.outbound)
    }
}
