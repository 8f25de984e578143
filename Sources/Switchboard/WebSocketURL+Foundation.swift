import Logging
import NIOCore
import NIOPosix
import SwitchboardCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension WebSocketURL {
    /// The WebSocket URL of a Foundation `URL`: `ws` and `wss`, and `http` and `https` taken
    /// as `ws` and `wss` (as browsers' `WebSocket` does); `nil` for other schemes, and for a
    /// URL with a fragment.
    public init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), url.fragment == nil else { return nil }
        let string = url.absoluteString
        let afterScheme = string.dropFirst(scheme.utf8.count)  // "://host…"
        guard afterScheme.hasPrefix("://") else { return nil }
        switch scheme {
        case "ws", "wss": self.init(string)
        case "http": self.init("ws" + afterScheme)
        case "https": self.init("wss" + afterScheme)
        default: return nil
        }
    }
}

extension WebSocketConnector {
    /// Connects to a Foundation `URL` (``WebSocketURL/init(_:)-(URL)``), runs `handler` on the
    /// connection, closes it when the handler returns, and returns the peer's close frame.
    @discardableResult
    public static func connect(
        to url: URL,
        configuration: WebSocketClientConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.client"),
        handler: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        guard let parsed = WebSocketURL(url) else { throw WebSocketError.handshakeFailed("not a ws, wss, http or https URL: \(url)") }
        return try await connect(
            to: parsed, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger,
            handler: ClosureWebSocketHandler(handler))
    }
}
