import Logging
import NIOCore

/// What a handler knows about its connection.
public struct WebSocketContext: Sendable {
    /// The opening handshake request (on a client: the one it sent).
    public var request: HandshakeRequest
    /// The subprotocol both ends agreed on, if any.
    public var subprotocol: String?
    /// The extensions in use, in pipeline order.
    public var extensions: [String]
    public var role: WebSocketRole
    public var logger: Logger
    /// Values the transport and the extensions attach to the connection, by key type: how an
    /// extension's features reach handlers without the core naming them (an extension
    /// publishes a key and reads its value back in a `WebSocketContext` extension of its own).
    public var values: WebSocketContextValues
    /// The parameters of the route's path (`id` of `/rooms/{id}`); empty on a client.
    public var pathParameters: [String: String]

    public init(
        request: HandshakeRequest, subprotocol: String?, extensions: [String], role: WebSocketRole, logger: Logger,
        values: WebSocketContextValues = WebSocketContextValues(), pathParameters: [String: String] = [:]
    ) {
        self.pathParameters = pathParameters
        self.request = request
        self.subprotocol = subprotocol
        self.extensions = extensions
        self.role = role
        self.logger = logger
        self.values = values
    }
}
