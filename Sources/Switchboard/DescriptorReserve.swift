import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One file descriptor a server holds back for the moment it runs out of them.
///
/// When the process has no descriptor left, `accept` fails with EMFILE and leaves the
/// connection in the listener's queue, so the listener is readable again at once: the
/// event loop would spin on failing accepts at 100% CPU. Pausing reads alone does not
/// stop that (SwiftNIO keeps a failed read pending and the listener registered). So, as
/// libuv does, the server closes this reserve descriptor, lets the next accept take the
/// waiting connection with it, closes that connection at once, and opens the reserve
/// again; with the accept pause (``WebSocketServer``), the listener then sleeps a second
/// between such connections instead of spinning.
final class DescriptorReserve: Sendable {
    private struct State {
        var descriptor: CInt = -1
        var connectionsToShed = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {
        refill()
    }

    deinit {
        state.withLockedValue { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    /// `accept` failed for want of descriptors: frees the reserve for the next accept and marks
    /// the connection it takes to be closed at once. Returns `false` if no reserve was held.
    func release() -> Bool {
        state.withLockedValue { state in
            guard state.descriptor >= 0 else { return false }
            close(state.descriptor)
            state.descriptor = -1
            state.connectionsToShed += 1
            return true
        }
    }

    /// Whether a connection just accepted should be closed at once (it took the reserve's
    /// descriptor). Call ``refill()`` once it is closed.
    func shedsNextConnection() -> Bool {
        state.withLockedValue { state in
            guard state.connectionsToShed > 0 else { return false }
            state.connectionsToShed -= 1
            return true
        }
    }

    /// Opens the reserve again, if it is not held (it stays empty while no descriptor is free).
    func refill() {
        state.withLockedValue { state in
            if state.descriptor < 0 { state.descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC) }
        }
    }
}
