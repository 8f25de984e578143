/// Why a call or a one-way message failed without an answer from the peer (an answer that
/// is a fault throws ``SOAPFault``).
public enum SOAPCallError: Error, Sendable, Hashable {
    /// No answer within the timeout. The peer may still run the operation.
    case timedOut(operation: String, after: Duration)
    /// The connection closed before the answer came (or before the call could be sent).
    case connectionClosed
    /// The answer's body does not decode into the type asked for.
    case responseMismatch(operation: String, reason: String)
}
