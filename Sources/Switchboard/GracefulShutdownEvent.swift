import NIOCore
import SwitchboardCore

/// Sent down a server's connections to start a graceful shutdown (close 1001).
struct GracefulShutdownEvent: Sendable {}
