import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardTestSupport

/// Runs a server for `routes` on 127.0.0.1, port 0, in a task group; calls `body`
/// with the port; then stops the server. The whole is bounded by `seconds`.
func withServer(_ routes: WebSocketRoutes, seconds: Double = 20, _ body: @escaping @Sendable (_ port: Int) async throws -> Void) async throws {
    let configuration = WebSocketServerConfiguration(host: "127.0.0.1", port: 0, routes: routes, shutdownTimeout: .seconds(1))
    try await withLoopbackServer(configuration, seconds: seconds) { _, port in try await body(port) }
}
