import SwitchboardCore
import Tracing

/// The span of one opening handshake, through swift-distributed-tracing: a no-op until the
/// application bootstraps a tracer (`InstrumentationSystem.bootstrap`).
///
/// A server's span continues the trace the request carries: the tracer reads it from the
/// headers (OpenTelemetry's, the W3C `traceparent`). It is named `GET <route>` once the route
/// is known (the route as it was added, so names stay few), and ends with the 101 or the
/// refusal. A client's span puts its own context into the request's headers the same way.
///
/// The connection's handler then runs in the span's context (``UpgradedConnection``), so the
/// spans a subprotocol starts, a JSON-RPC call's, are children of its handshake.
struct HandshakeSpan: Sendable {
    private let span: any Span

    /// Starts a server's span for `request`, continuing the trace its headers carry.
    static func server(_ request: HandshakeRequest) -> HandshakeSpan {
        let tracer = InstrumentationSystem.tracer
        var context = ServiceContext.current ?? .topLevel
        tracer.extract(request.headers, into: &context, using: HandshakeHeadersCarrier())
        let span = tracer.startSpan(request.method, context: context, ofKind: .server)
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes["http.request.method"] = request.method
                attributes["url.path"] = request.path
                attributes["url.scheme"] = request.isSecure ? "wss" : "ws"
                if let address = request.remoteAddress { attributes["network.peer.address"] = address }
            }
        }
        return HandshakeSpan(span: span)
    }

    /// Starts a client's span for a connection to `url`, and adds its context to `headers`.
    static func client(_ url: WebSocketURL, headers: inout HandshakeHeaders) -> HandshakeSpan {
        let tracer = InstrumentationSystem.tracer
        let span = tracer.startSpan("GET", context: ServiceContext.current ?? .topLevel, ofKind: .client)
        tracer.inject(span.context, into: &headers, using: HandshakeHeadersCarrier())
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes["http.request.method"] = "GET"
                attributes["server.address"] = url.host
                attributes["server.port"] = url.port
                attributes["url.scheme"] = url.isSecure ? "wss" : "ws"
                attributes["url.path"] = url.target
            }
        }
        return HandshakeSpan(span: span)
    }

    /// Ends the span of an upgraded connection; returns the context its handler runs in (`nil`
    /// when no tracer put anything in it, which leaves an untraced connection one word lighter).
    func upgraded(route: String?, subprotocol: String?, extensions: [String]) -> ServiceContext? {
        if span.isRecording {
            if let route, !route.isEmpty { span.operationName = "GET \(route)" }
            span.updateAttributes { attributes in
                attributes["http.response.status_code"] = 101
                if let route, !route.isEmpty { attributes["http.route"] = route }
                if let subprotocol { attributes["websocket.subprotocol"] = subprotocol }
                if !extensions.isEmpty { attributes["websocket.extensions"] = extensions }
            }
        }
        span.end()
        let context = span.context
        return context.isEmpty ? nil : context
    }

    /// Ends the span of a handshake answered with `status`: an error for a server's 5xx, and
    /// for a client, whatever stopped it.
    func refused(status: Int, route: String? = nil) {
        if span.isRecording {
            if let route, !route.isEmpty { span.operationName = "GET \(route)" }
            span.attributes["http.response.status_code"] = status
            if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        }
        span.end()
    }

    /// Ends the span of an upgrade a host server accepted and then dropped without installing
    /// the connection (the client left before the 101, or the host's own upgrade failed).
    func abandoned() {
        if span.isRecording {
            span.attributes["error.type"] = "abandoned"
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }

    /// Ends a client's span whose handshake failed without an answer it could read.
    func failed(_ error: any Error) {
        if case WebSocketError.upgradeRefused(let status) = error {
            span.attributes["http.response.status_code"] = status
        }
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        span.end()
    }

    /// The context the handshake runs in: an accept hook's spans are the handshake's children.
    var context: ServiceContext { span.context }
}

/// How a tracer reads and writes its context in a handshake's headers.
struct HandshakeHeadersCarrier: Extractor, Injector {
    func extract(key: String, from headers: HandshakeHeaders) -> String? { headers.single(key) }

    func inject(_ value: String, forKey key: String, into headers: inout HandshakeHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
