import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PerMessageDeflate
import ServiceLifecycle
import Switchboard
import SwitchboardBench
import SwitchboardCore
import SwitchboardExamples
import SwitchboardRegistry
import UnixSignals
import XMPP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve WebSocket echo at /echo and every plug-in of the Registry at its route."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
    @Option(help: "PEM certificate chain for wss.") var tlsCert: String?
    @Option(help: "PEM private key for wss.") var tlsKey: String?
    @Option(name: .customLong("subprotocol"), help: "Register a subprotocol token on /echo (repeatable; server order is preference order).")
    var subprotocols: [String] = []
    @Flag(help: "Refuse /echo handshakes (HTTP 400) that offer none of the --subprotocol tokens.")
    var requireSubprotocol = false
    @Option(help: "Largest message accepted, in bytes. Default 16 MiB: what the Autobahn TestSuite sends.")
    var maxMessageSize = 16 * 1024 * 1024
    @Option(help: "Seconds between heartbeat pings; 0 turns them off.") var pingInterval = 20
    @Flag(help: "Do not negotiate permessage-deflate.") var noDeflate = false
    @Option(help: "permessage-deflate's zlib level, 0 (store) to 9 (smallest); default the library's.") var deflateLevel: Int?
    @Option(help: "Event-loop threads (default: one per core). Benchmarks pin the server to one core with --threads 1.")
    var threads: Int?
    @Option(help: "Allowed browser Origin (repeatable); none allows every origin.")
    var allowOrigin: [String] = []
    @Option(
        name: .customLong("xmpp-user"),
        help: "An account of the XMPP server at /xmpp (domain localhost), name:password (repeatable).")
    var xmppUsers: [String] = []
    @Option(help: "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (loopback only; 0 picks a free port).")
    var metrics: Int?
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap(default: .info)
        let logger = Logger(label: "switchboard.serve")

        let echo = LoopEcho()
        var echoRegistry = SubprotocolRegistry(requiresSubprotocol: requireSubprotocol, defaultHandler: requireSubprotocol ? nil : echo)
        for token in subprotocols { echoRegistry.register(token, echo) }
        var routes = WebSocketRoutes()
        routes.add("/echo", echoRegistry)
        // Subprotocol plug-ins that can serve on their own (a handler with no application behind
        // it), then the example services (SwitchboardExamples), each at its route.
        var mounted: [(route: String, token: String, make: @Sendable () -> any WebSocketHandler)] =
            SwitchboardRegistry.subprotocols.compactMap { plugin in
                plugin.route.flatMap { route in plugin.makeHandler.map { (route, plugin.token, $0) } }
            }
        mounted += SwitchboardDemos.all.map { ($0.route, $0.token, $0.makeHandler) }
        for (route, token, make) in mounted {
            var registry = SubprotocolRegistry(defaultHandler: make())
            registry.register(token, make())
            routes.add(route, registry)
        }

        // XMPP over WebSocket (RFC 7395) for domain localhost, with the accounts given here.
        let accounts = InMemoryAccountStore()
        for user in xmppUsers {
            guard let colon = user.firstIndex(of: ":"), colon != user.startIndex else { throw ValidationError("--xmpp-user takes name:password") }
            accounts.add(String(user[..<colon]), password: String(user[user.index(after: colon)...]))
        }
        let xmpp = XMPPServer(configuration: XMPPConfiguration(domain: "localhost"), accounts: accounts)
        routes.add("/xmpp", .xmpp(xmpp))

        var connection = WebSocketConnectionConfiguration()
        connection.limits = WebSocketLimits(maxFrameSize: maxMessageSize, maxMessageSize: maxMessageSize)
        connection.pingInterval = pingInterval > 0 ? .seconds(Int64(pingInterval)) : nil

        var tls: TLSConfiguration?
        if let tlsCert, let tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(tlsCert).map { NIOSSLCertificateSource.certificate($0) }
            tls = .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: tlsKey, format: .pem)))
        } else if tlsCert != nil || tlsKey != nil {
            throw ValidationError("--tls-cert and --tls-key go together")
        }

        let routePaths = routes.paths
        let configuration = WebSocketServerConfiguration(
            host: host, port: port, routes: routes,
            extensions: SwitchboardRegistry.extensions
                .filter { !(noDeflate && $0.token == "permessage-deflate") }
                .compactMap { $0.makeExtension?(maxMessageSize) }
                .map { [deflateLevel, maxMessageSize] in
                    guard let deflateLevel, $0.token == PerMessageDeflate.token else { return $0 }
                    return PerMessageDeflate(configuration: .init(compressionLevel: deflateLevel, maxDecompressedMessageSize: maxMessageSize))
                },
            originPolicy: allowOrigin.isEmpty ? .any : .allow(Set(allowOrigin)),
            tls: tls, connection: connection,
            httpHandler: { [scheme = tls == nil ? "ws" : "wss"] request in Self.page(for: request, routes: routePaths, scheme: scheme) }
        )
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        let group = threads.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) } ?? .singleton
        let server = WebSocketServer(configuration: configuration, logger: logger, eventLoopGroup: group)
        let scheme = tls == nil ? "ws" : "wss"
        let listening = ListeningServer(server: server) { address in
            // An IPv6 address goes in brackets, in the address as in the URL (RFC 3986 §3.2.2).
            func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
            let port = address.port ?? port
            StandardStream.standardError.write(
                "listening on \(bracketed(address.ipAddress ?? host)):\(port) (\(scheme)://\(bracketed(host)):\(port)/echo)\n")
        }
        // SIGTERM and SIGINT shut down gracefully, services in reverse order: XMPP streams end with
        // system-shutdown first (to XMPP clients a bare WebSocket close is a lost connection), then
        // the server closes every connection with 1001.
        // The metrics endpoint first in the list, so that it stops last.
        let metricsEndpoint: [any Service] = metrics.map { [MetricsEndpoint(port: $0, logger: logger)] } ?? []
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: metricsEndpoint + [listening, XMPPShutdown(xmpp: xmpp)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
    }

    /// Plain HTTP: a health check, an index of the routes, and the demos' pages (the SOAP WSDL).
    static func page(for request: HandshakeRequest, routes: [String], scheme: String) -> PlainHTTPResponse? {
        if let demo = SwitchboardDemos.all.first(where: { $0.route == request.path }), let page = demo.page {
            // The address the client used, so that the WSDL's port points where it came from.
            let host = request.headers["Host"].first ?? "127.0.0.1"
            guard let answer = page(request, "\(scheme)://\(host)\(demo.route)") else { return nil }
            return PlainHTTPResponse(status: 200, headers: ["Content-Type": answer.contentType], body: answer.body)
        }
        switch request.path {
        case "/health":
            return PlainHTTPResponse(status: 200, body: "ok\n")
        case "/test":
            // The page the headless-browser test loads: it talks to /echo from a real browser.
            return PlainHTTPResponse(status: 200, headers: ["Content-Type": "text/html; charset=utf-8"], body: browserTestPage)
        case "/":
            let items = routes.map { "<li><code>\($0)</code></li>" }.joined()
            return PlainHTTPResponse(
                status: 200, headers: ["Content-Type": "text/html; charset=utf-8"],
                body: "<!doctype html><title>Switchboard</title><h1>Switchboard</h1><p>WebSocket routes:</p><ul>\(items)</ul>\n")
        default:
            return nil
        }
    }
}

/// The server as a service that says where it listens.
private struct ListeningServer: Service {
    let server: WebSocketServer
    let onListening: @Sendable (SocketAddress) -> Void
    func run() async throws { try await server.run(onListening: onListening) }
}

/// Ends the XMPP streams with system-shutdown when the group shuts down.
private struct XMPPShutdown: Service {
    let xmpp: XMPPServer
    func run() async throws {
        try? await gracefulShutdown()
        await xmpp.shutdown()
    }
}

/// /echo: every message sent back from the read that brought it, on the event loop.
struct LoopEcho: WebSocketLoopHandler {
    func received(_ message: WebSocketMessage, on connection: WebSocketLoopConnection) { connection.send(message) }
}
