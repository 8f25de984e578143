import Synchronization

/// The handshake span of an upgrade ``HostedWebSocketServer`` accepted, until the host installs
/// the connection: a host that drops the upgrade instead (the client left before the 101, the
/// host's own upgrade failed) ends it here, as abandoned, when the last copy of the
/// ``AcceptedUpgrade`` goes, rather than leaving it open in the tracer for good.
final class AcceptedUpgradeSpan: Sendable {
    private let span: HandshakeSpan
    private let installed = Atomic<Bool>(false)

    init(_ span: HandshakeSpan) { self.span = span }

    /// The span, for the installed connection to end.
    func take() -> HandshakeSpan {
        installed.store(true, ordering: .releasing)
        return span
    }

    deinit {
        if !installed.load(ordering: .acquiring) { span.abandoned() }
    }
}
