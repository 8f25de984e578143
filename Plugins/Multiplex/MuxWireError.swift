import SwitchboardCore

/// Bytes on the physical connection that are not a valid multiplexed message or control block.
///
/// Every fault the wire codec finds fails the physical connection: send
/// `DropChannel` on channel 0 with ``code`` (and ``reason``), then close the
/// physical connection with ``physicalCloseCode`` without waiting for an
/// answer. The other logical channels die with it. Faults of one channel
/// (quota, fragmentation) are found above the codec and use 3000-3999 codes.
package struct MuxWireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The DropChannel reason code, 2000-2999.
    package var code: MuxDropCode
    /// What was wrong, for the log and the DropChannel reason text.
    package var reason: String

    /// The close code of the physical connection after the DropChannel: 1011,
    /// as mod_pywebsocket 0.7.9 sends when it fails the physical connection;
    /// 1008 when a limit of this end ended a peer that kept within the wire format.
    package var physicalCloseCode: WebSocketCloseCode

    package init(_ code: MuxDropCode, _ reason: String, physicalCloseCode: WebSocketCloseCode = .internalServerError) {
        self.code = code
        self.reason = reason
        self.physicalCloseCode = physicalCloseCode
    }

    /// The same fault as the core's protocol error, for an extension's `decode`
    /// to throw: it closes the physical connection with ``physicalCloseCode``.
    package var protocolError: WebSocketProtocolError {
        WebSocketProtocolError(physicalCloseCode, "mux \(code.rawValue): \(reason)")
    }

    package var description: String { "mux drop \(code.rawValue): \(reason)" }
}
