/// Why an extension negotiation failed; on the client it fails the connection.
public struct ExtensionNegotiationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong, for the log and the handshake error.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
