/// Why an XMPP client could not go on.
public enum XMPPClientError: Error, Sendable, Hashable {
    /// The server's answer is not what RFC 6120 or RFC 7395 allow at this step.
    case protocolViolation(String)
    /// Authentication failed with this SASL condition (`not-authorized`, ...), or no mechanism in common.
    case authenticationFailed(String)
    /// The server ended the stream with this error.
    case streamError(XMPPStreamError.Condition, String)
    /// No answer in time.
    case timedOut
    /// The connection closed.
    case connectionClosed
    /// An iq was answered with an error (the stanza error's condition).
    case iqError(String)
}
