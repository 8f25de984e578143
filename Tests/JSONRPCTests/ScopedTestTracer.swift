import Synchronization
import Tracing

/// A tracer for tests that share their process with every other suite: it records a span only
/// inside ``ScopedTestTracer/recording(_:)`` or under a parent it made or read from a
/// `traceparent` header (W3C Trace Context, which it also writes). Anything else gets a span
/// that records nothing and leaves the context empty, as with no tracer at all, so other
/// suites' connections run as they do untraced.
final class ScopedTestTracer: Tracer {
    /// The identity of a recorded span, in its context.
    struct Identity: Sendable, Hashable {
        var traceID: String
        var spanID: String
    }

    enum IdentityKey: ServiceContextKey {
        typealias Value = Identity
    }

    struct Finished: Sendable {
        var name: String
        var kind: SpanKind
        var identity: Identity
        var parentSpanID: String?
        var attributes: SpanAttributes
        var status: SpanStatus?
    }

    @TaskLocal static var isRecording = false

    static let shared: ScopedTestTracer = {
        let tracer = ScopedTestTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    /// Runs `body` with spans of its task recorded.
    static func recording<T>(_ body: () async throws -> T) async rethrows -> T {
        _ = shared
        return try await $isRecording.withValue(true, operation: body)
    }

    private let finished = Mutex<[Finished]>([])
    private let nextID = Atomic<UInt64>(1)

    /// The spans ended so far in `traceID`.
    func spans(inTrace traceID: String) -> [Finished] { finished.withLock { $0.filter { $0.identity.traceID == traceID } } }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind, at instant: @autoclosure () -> Instant,
        function: String, file fileID: String, line: UInt
    ) -> TestSpan {
        var context = context()
        let parent = context[IdentityKey.self]
        guard parent != nil || Self.isRecording else { return TestSpan(name: operationName, kind: kind, context: context, parent: nil, tracer: nil) }
        let spanID = hex(nextID.wrappingAdd(1, ordering: .relaxed).oldValue, digits: 16)
        let traceID = parent?.traceID ?? hex(UInt64.random(in: 1...UInt64.max), digits: 32)
        context[IdentityKey.self] = Identity(traceID: traceID, spanID: spanID)
        return TestSpan(name: operationName, kind: kind, context: context, parent: parent?.spanID, tracer: self)
    }

    func forceFlush() {}

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[1].count == 32, parts[2].count == 16 else { return }
        context[IdentityKey.self] = Identity(traceID: String(parts[1]), spanID: String(parts[2]))
    }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let identity = context[IdentityKey.self] else { return }
        injector.inject("00-\(identity.traceID)-\(identity.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    fileprivate func record(_ span: Finished) { finished.withLock { $0.append(span) } }

    private func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// A span of ``ScopedTestTracer``: kept until it ends, then handed to the tracer (unless it records nothing).
final class TestSpan: Span {
    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var status: SpanStatus?
        var ended = false
    }

    let context: ServiceContext
    private let kind: SpanKind
    private let parent: String?
    private let tracer: ScopedTestTracer?
    private let state: Mutex<State>

    init(name: String, kind: SpanKind, context: ServiceContext, parent: String?, tracer: ScopedTestTracer?) {
        self.context = context
        self.kind = kind
        self.parent = parent
        self.tracer = tracer
        self.state = Mutex(State(name: name))
    }

    var isRecording: Bool { tracer != nil && !state.withLock { $0.ended } }

    var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    func setStatus(_ status: SpanStatus) { state.withLock { $0.status = status } }
    func addEvent(_ event: SpanEvent) {}
    func addLink(_ link: SpanLink) {}
    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished, let tracer, let identity = context[ScopedTestTracer.IdentityKey.self] else { return }
        tracer.record(
            ScopedTestTracer.Finished(
                name: finished.name, kind: kind, identity: identity, parentSpanID: parent, attributes: finished.attributes,
                status: finished.status))
    }
}
