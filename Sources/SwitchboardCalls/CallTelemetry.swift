import CoreMetrics
import Tracing

/// The span and the duration of each call a request/response subprotocol serves or makes,
/// through swift-distributed-tracing and swift-metrics (no-ops until the application
/// bootstraps a tracer or a metrics backend), named as OpenTelemetry's RPC conventions name them.
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `rpc.server.duration` | timer: a peer's call, received to answered | `rpc.system`, `rpc.method`, the error |
/// | `rpc.client.duration` | timer: our call, sent to answered | as above |
///
/// The error label is the protocol's own code (`rpc.jsonrpc.error_code`, `rpc.soap.fault_code`)
/// when the call was answered with one, `error.type` when it got no answer (a timeout, a closed
/// connection), and absent on success. A method the server does not have is `_OTHER`, in the
/// label and in the span's name: a peer picks the method names it sends, and one series or span
/// name each would let it make as many as it likes.
///
/// A span is named after the method and runs in the task's trace context: on a connection
/// whose handshake was traced, every call is a child of the handshake's span.
///
/// One value serves one connection: it takes the tracer and the metrics backend bootstrapped
/// when the connection opened, so that a call does not look them up (a lock and a dynamic
/// cast each, about a twentieth of a small JSON-RPC call), and with no tracer bootstrapped
/// it makes no span at all.
package struct CallTelemetry: Sendable {
    /// `rpc.system`: `jsonrpc`, `soap`.
    package let system: String
    /// Where a protocol error code goes, in the labels and the span's attributes.
    package let errorCodeKey: String
    /// `nil` when no tracer is bootstrapped: a span would record nothing.
    private let tracer: (any Tracer)?
    private let metrics: any MetricsFactory

    package init(system: String, errorCodeKey: String) {
        self.system = system
        self.errorCodeKey = errorCodeKey
        let tracer = InstrumentationSystem.tracer
        self.tracer = tracer is NoOpTracer ? nil : tracer
        self.metrics = MetricsSystem.factory
    }

    /// How a call ended, for its labels and its span.
    package enum Outcome: Sendable {
        case success
        /// Answered with the protocol's error or fault code.
        case errorCode(String)
        /// No answer: `error.type` says why (`timeout`, `closed`, `cancelled`, `other`).
        case noAnswer(String)
    }

    /// Runs `body`, a call the peer made of `method` (`nil`: a method we do not have); `body`
    /// answers it and returns how it ended.
    package func served(method: String?, requestID: @autoclosure () -> String?, _ body: () async -> Outcome) async {
        let name = method ?? "_OTHER"
        let start = ContinuousClock.now
        guard let tracer else {
            return record(await body(), span: nil, since: start, method: name, metric: Self.served)
        }
        await tracer.withAnySpan(name, ofKind: .server) { span in
            describe(span, method: name, requestID: requestID)
            record(await body(), span: span, since: start, method: name, metric: Self.served)
        }
    }

    /// ``served(method:requestID:_:)`` for a call answered without waiting.
    package func servedNow(method: String?, requestID: @autoclosure () -> String?, _ body: () -> Outcome) {
        let name = method ?? "_OTHER"
        let start = ContinuousClock.now
        guard let tracer else {
            return record(body(), span: nil, since: start, method: name, metric: Self.served)
        }
        tracer.withAnySpan(name, ofKind: .server) { span in
            describe(span, method: name, requestID: requestID)
            record(body(), span: span, since: start, method: name, metric: Self.served)
        }
    }

    /// Runs `body`, our call of `method`; `outcome` tells how a thrown error ended it.
    package func made<Result>(
        method: String, outcome: (any Error) -> Outcome, _ body: () async throws -> Result
    ) async throws -> Result {
        let start = ContinuousClock.now
        func measured(_ span: (any Span)?) async throws -> Result {
            do {
                let result = try await body()
                record(.success, span: span, since: start, method: method, metric: Self.made)
                return result
            } catch {
                record(outcome(error), span: span, since: start, method: method, metric: Self.made)
                throw error
            }
        }
        guard let tracer else { return try await measured(nil) }
        return try await tracer.withAnySpan(method, ofKind: .client) { span in
            describe(span, method: method, requestID: { nil })
            return try await measured(span)
        }
    }

    private static let served = "rpc.server.duration"
    private static let made = "rpc.client.duration"

    /// `requestID` is only made for a span that records: most calls are traced by nobody.
    private func describe(_ span: any Span, method: String, requestID: () -> String?) {
        guard span.isRecording else { return }
        span.attributes["rpc.system"] = system
        span.attributes["rpc.method"] = method
        if let requestID = requestID() { span.attributes["rpc.jsonrpc.request_id"] = requestID }
    }

    private func record(_ outcome: Outcome, span: (any Span)?, since start: ContinuousClock.Instant, method: String, metric: String) {
        let duration = ContinuousClock.now - start
        var dimensions = [("rpc.system", system), ("rpc.method", method)]
        switch outcome {
        case .success:
            break
        case .errorCode(let code):
            dimensions.append((errorCodeKey, code))
            if let span, span.isRecording {
                span.attributes[errorCodeKey] = code
                span.setStatus(SpanStatus(code: .error))
            }
        case .noAnswer(let type):
            dimensions.append(("error.type", type))
            if let span, span.isRecording {
                span.attributes["error.type"] = type
                span.setStatus(SpanStatus(code: .error))
            }
        }
        let (seconds, attoseconds) = duration.components
        Timer(label: metric, dimensions: dimensions, preferredDisplayUnit: .seconds, factory: metrics)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
