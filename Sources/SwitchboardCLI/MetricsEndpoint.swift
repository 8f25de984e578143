import CoreMetrics
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Switchboard
import SwitchboardBench
import SwitchboardCore

/// `serve --metrics PORT`: swift-metrics bootstrapped with swift-prometheus, and the registry's
/// text served at `http://127.0.0.1:PORT/metrics` by a WebSocket server with no routes (its
/// plain-HTTP handler), on loopback only: metrics are for the operator's scraper, not the world.
struct MetricsEndpoint: Service {
    let server: WebSocketServer

    /// Bootstraps the metrics system (once per process) and makes the endpoint.
    init(port: Int, logger: Logger) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Prometheus names allow no dots: `websocket.messages` is exported as `websocket_messages`.
        factory.nameAndLabelSanitizer = { name, labels in (Self.prometheusName(name), labels.map { (Self.prometheusName($0.0), $0.1) }) }
        MetricsSystem.bootstrap(factory)
        let configuration = WebSocketServerConfiguration(
            host: "127.0.0.1", port: port,
            httpHandler: { request in
                guard request.path == "/metrics" else { return nil }
                return PlainHTTPResponse(
                    status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: registry.emitToString())
            })
        var metricsLogger = logger
        metricsLogger[metadataKey: "endpoint"] = "metrics"
        server = WebSocketServer(configuration: configuration, logger: metricsLogger)
    }

    func run() async throws {
        try await server.run { address in
            StandardStream.standardError.write("metrics on http://127.0.0.1:\(address.port ?? 0)/metrics\n")
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other character becomes `_`.
    static func prometheusName(_ name: String) -> String {
        var result = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let isLetter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == ":"
            let isDigit = ("0"..."9").contains(scalar)
            result.unicodeScalars.append(isLetter || (isDigit && index > 0) ? scalar : "_")
        }
        return result
    }
}
