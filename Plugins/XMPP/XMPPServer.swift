import Logging
import NIOCore
import SwitchboardCore
import Synchronization

/// An XMPP server over WebSocket (RFC 7395): register it under ``token`` on a route.
///
/// ```swift
/// let accounts = InMemoryAccountStore()
/// accounts.add("alice", password: "secret")
/// let xmpp = XMPPServer(configuration: XMPPConfiguration(domain: "localhost"), accounts: accounts)
/// routes.add("/xmpp", .xmpp(xmpp))
/// ```
///
/// Each connection is one client stream: SASL (SCRAM-SHA-256, SCRAM-SHA-1, and PLAIN where
/// ``XMPPConfiguration/allowsPlainOverInsecureTransport`` or the peer is on loopback), resource
/// binding, then stanzas routed between the server's connected clients. Bad input gets the
/// stream error RFC 6120 names, then `<close/>`, then the WebSocket close, and a log line.
public final class XMPPServer: WebSocketHandler {
    /// `xmpp`, RFC 7395's token.
    public static let token = "xmpp"

    public let configuration: XMPPConfiguration
    let accounts: any XMPPAccountStore
    let router: XMPPRouter
    /// Every open connection, logged in or not: what ``shutdown()`` ends.
    private let connections = Mutex<[ObjectIdentifier: Connection]>([:])

    public init(
        configuration: XMPPConfiguration = XMPPConfiguration(), accounts: any XMPPAccountStore, roster: any XMPPRosterStore = InMemoryRosterStore()
    ) {
        self.configuration = configuration
        self.accounts = accounts
        self.router = XMPPRouter(domain: configuration.domain, roster: roster, maxSessionsPerAccount: configuration.maxConnectionsPerAccount)
    }

    /// What reaches a connection from elsewhere: a stanza to deliver, or the end of its stream.
    enum Delivery: Sendable {
        /// A stanza, already written, counted in ``Connection``'s queued bytes.
        case stanza([UInt8])
        case terminate(XMPPStreamError)
    }

    public func handle(_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound, context: WebSocketContext) async throws {
        let logger = context.logger
        let (deliveries, deliver) = AsyncStream.makeStream(of: Delivery.self)  // bounded in bytes by Connection.enqueue
        let connection = Connection(server: self, outbound: outbound, context: context, deliver: deliver)
        let key = ObjectIdentifier(connection)
        connections.withLock { $0[key] = connection }
        defer { _ = connections.withLock { $0.removeValue(forKey: key) } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await connection.enforceLoginTimeout() }
            group.addTask {
                for await delivery in deliveries {
                    switch delivery {
                    case .stanza(let bytes): await connection.write(queued: bytes)
                    case .terminate(let error): await connection.end(with: error)
                    }
                }
            }
            do {
                try await connection.read(inbound)
            } catch {
                logger.debug("XMPP connection ended", metadata: ["error": "\(error)"])
            }
            deliver.finish()
            group.cancelAll()
        }
        await connection.finished()
    }

    /// Ends every open stream with the `system-shutdown` stream error, `<close/>` and a WebSocket
    /// close (RFC 6120 §4.9.3.17), as a server going down should. Call it before
    /// `WebSocketServer.shutdown()`, whose WebSocket close (1001) would end the streams without a
    /// word of XMPP, and clients would take it for a lost connection.
    ///
    /// Returns once every stream has its error queued, or after `timeout`: a client that does not
    /// read cannot take the error, and waiting for it would hold the server's shutdown for good.
    /// Past the timeout the waiting writes are cancelled and those connections get only the
    /// WebSocket close. Default 5 s.
    public func shutdown(timeout: Duration = .seconds(5)) async {
        let open = connections.withLock { Array($0.values) }
        await withTaskGroup(of: Bool.self) { group in
            for connection in open {
                group.addTask {
                    await connection.end(with: XMPPStreamError(.systemShutdown, "the server is shutting down"))
                    return true
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            var ending = open.count
            while ending > 0, let ended = await group.next(), ended { ending -= 1 }
            group.cancelAll()
        }
    }

    static func isLoopback(_ address: String?) -> Bool {
        guard let address else { return false }
        return address.hasPrefix("127.") || address.hasPrefix("[::1]") || address.hasPrefix("::1")
    }
}
