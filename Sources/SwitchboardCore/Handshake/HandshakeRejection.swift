/// An HTTP answer that refuses a handshake.
public struct HandshakeRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    /// Logged, and sent as the response body.
    public var reason: String
    public var headers: HandshakeHeaders

    public init(status: Int, reason: String, headers: HandshakeHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    public var description: String { "\(status): \(reason)" }
}
