/// A close status code (RFC 6455 §7.4).
public struct WebSocketCloseCode: Hashable, Sendable, CustomStringConvertible {
    /// The two-byte code on the wire.
    public let rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure = WebSocketCloseCode(1000)
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    public static let goingAway = WebSocketCloseCode(1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = WebSocketCloseCode(1002)
    /// 1003: a data type the endpoint cannot accept.
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// 1005: no code was present. Reported locally, never sent (§7.4.1).
    public static let noStatusReceived = WebSocketCloseCode(1005)
    /// 1006: the connection dropped without a close frame. Reported locally, never sent.
    public static let abnormalClosure = WebSocketCloseCode(1006)
    /// 1007: a text message or close reason that is not UTF-8.
    public static let invalidFramePayloadData = WebSocketCloseCode(1007)
    /// 1008: a message that violates the endpoint's policy.
    public static let policyViolation = WebSocketCloseCode(1008)
    /// 1009: a message larger than the endpoint accepts.
    public static let messageTooBig = WebSocketCloseCode(1009)
    /// 1010: the client expected an extension the server did not negotiate.
    public static let mandatoryExtension = WebSocketCloseCode(1010)
    /// 1011: the server hit an unexpected condition.
    public static let internalServerError = WebSocketCloseCode(1011)
    /// 1015: the TLS handshake failed. Reported locally, never sent.
    public static let tlsHandshakeFailure = WebSocketCloseCode(1015)

    /// Whether the code may appear in a close frame on the wire.
    ///
    /// §7.4.1 defines 1000-1003 and 1007-1011; IANA's registry adds 1012-1014
    /// (service restart, try again later, bad gateway). 1004 is reserved and
    /// 1005, 1006 and 1015 are for local reporting only. 1016-2999 are reserved
    /// for future revisions of the protocol, 3000-3999 for libraries and
    /// frameworks, 4000-4999 for private use (§7.4.2). Everything else is invalid.
    public var isAllowedOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    public var description: String { String(rawValue) }
}
