import Logging
import NIOCore
import NIOPosix
import SwitchboardCore

extension WebSocketConnector {
    /// Connects to `url` again and again: after each connection ends, and after each failed
    /// attempt that retrying can fix, with ``ReconnectBackoff``'s waits between failures.
    ///
    /// ```swift
    /// let connections = WebSocketConnector.reconnecting(to: url) { inbound, outbound, _ in
    ///     for try await message in inbound { print(message.text ?? "binary") }
    /// }
    /// for try await event in connections {
    ///     if case .failed(let error, let delay) = event { print("\(error); again in \(delay)") }
    /// }
    /// ```
    ///
    /// `handler` runs once per connection. The sequence yields an event when a connection ends
    /// and when an attempt fails; it ends when the loop breaks or the task is cancelled, and
    /// throws when retrying cannot help (``isRetryable(_:)``: a 4xx refusal, a TLS failure) or
    /// after `backoff`'s `maximumAttempts` failures in a row.
    public static func reconnecting(
        to url: WebSocketURL,
        configuration: WebSocketClientConfiguration = .init(),
        backoff: ReconnectBackoff = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "switchboard.client"),
        handler: @escaping @Sendable (WebSocketInbound, WebSocketOutbound, WebSocketContext) async throws -> Void
    ) -> WebSocketReconnections {
        WebSocketReconnections(
            connect: {
                try await connect(
                    to: url, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger,
                    handler: ClosureWebSocketHandler(handler))
            }, backoff: backoff, logger: logger)
    }

    /// Whether an error of a connection attempt may go away by itself. Not: a 4xx refusal, by
    /// the server or by the HTTP proxy (the request or its credentials are wrong, as in a
    /// proxy's 407; but 408 and 429 are about timing), a 3xx (the client does not follow
    /// redirects), a failed TLS handshake (certificate or protocol), a malformed URL.
    /// Everything else is: refused or reset connections, timeouts, 5xx.
    public static func isRetryable(_ error: any Error) -> Bool {
        switch error as? WebSocketError {
        case .upgradeRefused(let status)?, .proxyRefused(let status)?: return status >= 500 || status == 408 || status == 429
        case .tlsFailed?: return false
        default: return true
        }
    }
}

/// The connections of ``WebSocketConnector/reconnecting(to:configuration:backoff:eventLoopGroup:logger:handler:)``,
/// as an asynchronous sequence of what happened to each.
public struct WebSocketReconnections: AsyncSequence, Sendable {
    public typealias Element = Event

    /// What one attempt came to.
    public enum Event: Sendable {
        /// A connection opened, ran the handler, and ended; the peer's close frame, if it sent one.
        case closed(WebSocketCloseFrame?)
        /// An attempt failed with an error retrying may fix; the next starts after `retryingAfter`.
        case failed(any Error, retryingAfter: Duration)
    }

    let connect: @Sendable () async throws -> WebSocketCloseFrame?
    let backoff: ReconnectBackoff
    let logger: Logger

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: WebSocketReconnections
        /// Failures since the last connection that opened.
        var failures = 0
        var pendingDelay: Duration?

        public mutating func next() async throws -> Event? {
            if let delay = pendingDelay {
                pendingDelay = nil
                do { try await Task.sleep(for: delay) } catch { return nil }
            }
            guard !Task.isCancelled else { return nil }
            do {
                let close = try await sequence.connect()
                failures = 0
                // Even after a connection that opened, wait the first step: a server that accepts
                // and closes at once is not called in a tight loop.
                pendingDelay = sequence.backoff.delay(afterFailures: 1, random: .random(in: 0...1))
                return .closed(close)
            } catch {
                guard !Task.isCancelled else { return nil }
                failures += 1
                guard WebSocketConnector.isRetryable(error) else {
                    sequence.logger.info("not reconnecting", metadata: ["error": "\(error)"])
                    throw error
                }
                if let limit = sequence.backoff.maximumAttempts, failures >= limit { throw error }
                let delay = sequence.backoff.delay(afterFailures: failures, random: .random(in: 0...1))
                sequence.logger.debug("connection attempt failed", metadata: ["error": "\(error)", "retry-in": "\(delay)"])
                pendingDelay = delay
                return .failed(error, retryingAfter: delay)
            }
        }
    }
}
