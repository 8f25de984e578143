import SwitchboardCore

/// The negotiated multiplexing extension of one physical connection.
///
/// It leaves physical frames untouched (multiplexing claims no reserved bit);
/// its work is done by the carrier the transport makes from it (``MuxCarrier``).
struct MultiplexExtension: WebSocketSessionExtension {
    let revision: MuxRevision
    let configuration: MuxConfiguration
    /// Server: the client's `quota`, our first send quota on the implicit channel.
    let peerInitialQuota: Int
    /// The implicit channel's extensions: those negotiated before the multiplexing token.
    let channelExtensions: [any WebSocketExtension]
    /// Client: the extensions each new channel offers.
    let channelExtensionFactories: [any WebSocketExtensionFactory]

    var name: String { revision.token }

    func decode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }
    func encode(_ frame: WireFrame, into output: inout ExtensionOutput) throws(WebSocketProtocolError) { output.forward(frame) }

    func makeSessionCarrier(host: any WebSocketSessionHost) -> any WebSocketSessionCarrier {
        let setup = MuxSessionSetup(
            role: host.context.role, request: host.context.request, limits: host.limits,
            acceptChannel: host.evaluate, allocator: host.allocator, logger: host.context.logger)
        return MuxCarrier(session: makeSession(setup), host: host, implicitExtensions: channelExtensions.map(\.name))
    }

    /// The sans-I/O session alone, as the carrier, the tests and the fuzzer drive it.
    func makeSession(_ setup: MuxSessionSetup) -> MuxSession {
        MuxSession(
            setup: setup, configuration: configuration, implicitSendQuota: setup.role == .server ? peerInitialQuota : 0,
            channelExtensions: channelExtensions, channelExtensionFactories: channelExtensionFactories)
    }
}
