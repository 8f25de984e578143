import NIOCore

/// Which endpoint is parsing: a server requires masked frames, a client unmasked ones (§5.1).
public enum WebSocketRole: Sendable, Hashable {
    case client
    case server
}
