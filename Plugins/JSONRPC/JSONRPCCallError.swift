/// Why ``JSONRPCPeer/call(_:_:as:timeout:)`` or ``JSONRPCPeer/notify(_:_:)`` failed
/// without an answer from the peer (an answer that is an error throws ``JSONRPCError``).
public enum JSONRPCCallError: Error, Sendable, Hashable {
    /// No answer within the timeout. The peer may still run the call: make
    /// methods that change state safe to retry, or check before retrying.
    case timedOut(method: String, after: Duration)
    /// The connection closed before the answer came (or before the call could be sent).
    case connectionClosed
    /// The parameters did not encode to a JSON array or object, which §4.2 requires.
    /// Wrap a single value in an array: `[value]`.
    case parametersNotStructured(method: String)
    /// The answer's `result` does not decode into the type asked for.
    case resultMismatch(method: String, reason: String)
}
