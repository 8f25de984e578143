import NIOCore
import SwitchboardCore

/// Opens logical channels for a client's handlers; kept in the implicit channel's
/// context values, where ``SwitchboardCore/WebSocketContext/openChannel(path:subprotocols:headers:)`` finds it.
struct MuxChannelOpener: Sendable {
    /// The context key of a client connection that negotiated multiplexing.
    enum Key: WebSocketContextKey {
        typealias Value = MuxChannelOpener
    }

    let carrier: NIOLoopBound<MuxCarrier>
    /// The physical request, whose `Host` and extra fields (`Origin`, `Authorization`) every channel repeats.
    let physicalRequest: HandshakeRequest
    /// How long an open waits for the server (the client's handshake timeout).
    let openTimeout: TimeAmount

    func openChannel(path: String, subprotocols: [String], headers: HandshakeHeaders) async throws -> WebSocketLogicalChannel {
        var fields: HandshakeHeaders = ["Host": physicalRequest.headers.single("Host") ?? "localhost", "Connection": "Upgrade"]
        if !subprotocols.isEmpty { fields.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", ")) }
        let settled: Set<String> = [
            "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
            "sec-websocket-protocol", "sec-websocket-extensions",
        ]
        for field in physicalRequest.headers where !settled.contains(field.name.lowercased()) { fields.add(name: field.name, value: field.value) }
        for field in headers { fields.replaceOrAdd(name: field.name, value: field.value) }
        let request = HandshakeRequest(target: path, headers: fields)
        let (carrier, timeout) = (self.carrier, openTimeout)
        let (answer, pending) = try await carrier.eventLoop.submit {
            let pending = carrier.value.open(request, subprotocols: subprotocols, timeout: timeout)
            return (pending.promise.futureResult, NIOLoopBound(pending, eventLoop: carrier.eventLoop))
        }.get()
        return try await withTaskCancellationHandler {
            try await answer.get()
        } onCancel: {
            pending.eventLoop.execute { pending.value.abandon(CancellationError()) }
        }
    }
}
