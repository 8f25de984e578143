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
package struct CallTelemetry: Sendable {
    /// `rpc.system`: `jsonrpc`, `soap`.
    package let system: String
    /// Where a protocol error code goes, in the labels and the span's attributes.
    package let errorCodeKey: String

    package init(system: String, errorCodeKey: String) {
        self.system = system
        self.errorCodeKey = errorCodeKey
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
    package func served(method: String?, requestID: String?, _ body: () async -> Outcome) async {
        let name = method ?? "_OTHER"
        let start = ContinuousClock.now
        await withSpan(name, ofKind: .server) { span in
            if span.isRecording {
                span.attributes["rpc.system"] = system
                span.attributes["rpc.method"] = name
                if let requestID { span.attributes["rpc.jsonrpc.request_id"] = requestID }
            }
            let outcome = await body()
            record(outcome, span: span, duration: ContinuousClock.now - start, method: name, metric: "rpc.server.duration")
        }
    }

    /// Runs `body`, our call of `method`; `outcome` tells how a thrown error ended it.
    package func made<Result>(
        method: String, outcome: (any Error) -> Outcome, _ body: () async throws -> Result
    ) async throws -> Result {
        let start = ContinuousClock.now
        return try await withSpan(method, ofKind: .client) { span in
            if span.isRecording {
                span.attributes["rpc.system"] = system
                span.attributes["rpc.method"] = method
            }
            do {
                let result = try await body()
                record(.success, span: span, duration: ContinuousClock.now - start, method: method, metric: "rpc.client.duration")
                return result
            } catch {
                record(outcome(error), span: span, duration: ContinuousClock.now - start, method: method, metric: "rpc.client.duration")
                throw error
            }
        }
    }

    private func record(_ outcome: Outcome, span: any Span, duration: Duration, method: String, metric: String) {
        var dimensions = [("rpc.system", system), ("rpc.method", method)]
        switch outcome {
        case .success:
            break
        case .errorCode(let code):
            dimensions.append((errorCodeKey, code))
            if span.isRecording {
                span.attributes[errorCodeKey] = code
                span.setStatus(SpanStatus(code: .error))
            }
        case .noAnswer(let type):
            dimensions.append(("error.type", type))
            if span.isRecording {
                span.attributes["error.type"] = type
                span.setStatus(SpanStatus(code: .error))
            }
        }
        let (seconds, attoseconds) = duration.components
        Timer(label: metric, dimensions: dimensions, preferredDisplayUnit: .seconds)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
