/// A violation of the protocol by the peer, with the close code that answers it.
///
/// The engine never throws these at the user: it sends the close frame itself
/// and reports the error as ``WebSocketEvent/failed(_:)`` so that the transport
/// can log it.
public struct WebSocketProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The close code sent to the peer.
    public var closeCode: WebSocketCloseCode
    /// What went wrong, for the log; also used as the close reason.
    public var reason: String

    public init(_ closeCode: WebSocketCloseCode, _ reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    public var description: String { "\(closeCode.rawValue): \(reason)" }

    static func protocolViolation(_ reason: String) -> Self { .init(.protocolError, reason) }
}
