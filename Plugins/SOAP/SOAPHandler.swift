import Logging
import SwitchboardCore

/// Speaks SOAP over WebSocket ([MS-SWSB]) on either end: serves ``operations`` to the peer
/// and, with a `session`, calls the peer's.
///
/// A server registers it under ``token`` (see ``SwitchboardCore/SubprotocolRegistry/soap(_:)``)
/// and serves its WSDL (``SOAPOperations/wsdl(service:location:transport:)``):
///
/// ```swift
/// var operations = SOAPOperations(namespace: "urn:example:calc")
/// operations.register("Add") { (input: Add, _) in AddResponse(result: input.a + input.b) }
/// routes.add("/soap", .soap(SOAPHandler(operations: operations)))
/// ```
///
/// A client offers the token, names its version in the handshake, and runs its calls as the
/// session:
///
/// ```swift
/// let client = SOAPHandler(namespace: "urn:example:calc") { server in
///     let sum = try await server.call("Add", Add(a: 2, b: 3), as: AddResponse.self)
/// }
/// try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [SOAPHandler.token], headers: client.handshakeHeaders)) {
///     try await client.handle($0, $1, context: $2)
/// }
/// ```
///
/// One envelope is one text message. A server speaks the version the client's
/// `soap-content-type` names (``SOAPConfiguration/version`` when it names none) and closes
/// with 1003 when it names a media type that is not SOAP 1.1's or 1.2's, or when a binary
/// message arrives. Requests run concurrently, at most
/// ``SOAPConfiguration/maxConcurrentCalls`` at once.
public struct SOAPHandler: WebSocketHandler {
    /// `soap`, the token IANA registers for [MS-SWSB].
    public static let token = "soap"
    /// The handshake header in which a client names the media type of its envelopes ([MS-SWSB] §2.2.1).
    public static let contentTypeHeader = "soap-content-type"

    public var operations: SOAPOperations
    public var configuration: SOAPConfiguration
    private let session: (@Sendable (SOAPPeer) async throws -> Void)?

    /// - Parameters:
    ///   - operations: the operations this end serves.
    ///   - configuration: the SOAP version, limits and timeouts.
    ///   - session: what this end does with the peer (a client's calls). When it
    ///     returns, the connection closes with 1000; when it throws, with 1011.
    public init(
        operations: SOAPOperations, configuration: SOAPConfiguration = SOAPConfiguration(),
        session: (@Sendable (SOAPPeer) async throws -> Void)? = nil
    ) {
        self.operations = operations
        self.configuration = configuration
        self.session = session
    }

    /// A handler that serves nothing and calls into `namespace`: a plain client.
    public init(
        namespace: String, configuration: SOAPConfiguration = SOAPConfiguration(), session: @escaping @Sendable (SOAPPeer) async throws -> Void
    ) {
        self.init(operations: SOAPOperations(namespace: namespace), configuration: configuration, session: session)
    }

    /// The headers a client sends in its handshake: `soap-content-type` for ``SOAPConfiguration/version``.
    public var handshakeHeaders: HandshakeHeaders { [Self.contentTypeHeader: configuration.version.contentType] }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        var version = configuration.version
        if context.role == .server, let contentType = context.request.headers[Self.contentTypeHeader].first {
            guard let named = SOAPVersion(contentType: contentType) else {
                context.logger.info("SOAP connection refused: unsupported soap-content-type", metadata: ["soap-content-type": "\(contentType)"])
                try await outbound.close(.unsupportedData, reason: "soap-content-type must be application/soap+xml or text/xml")
                for try await _ in inbound {}
                return
            }
            version = named
        }
        let peer = SOAPPeer(outbound: outbound, context: context, version: version, namespace: operations.namespace, configuration: configuration)
        try await SOAPConnection(peer: peer, operations: operations, configuration: configuration).run(inbound, outbound: outbound, session: session)
    }
}
