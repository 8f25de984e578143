import NIOCore
import NIOHTTP1
import Switchboard
import Vapor

/// Vapor's upgrade step for an upgrade Switchboard accepted: the 101's headers, then the
/// connection installed on the channel once Vapor has removed its HTTP handlers.
struct SwitchboardVaporUpgrader: Upgrader {
    let server: HostedWebSocketServer
    let upgrade: AcceptedUpgrade

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        ProtocolUpgrader(server: server, upgrade: upgrade, logger: req.logger)
    }

    struct ProtocolUpgrader: HTTPServerProtocolUpgrader {
        let server: HostedWebSocketServer
        let upgrade: AcceptedUpgrade
        let logger: Logger

        var supportedProtocol: String { "websocket" }
        var requiredUpgradeHeaders: [String] { [] }

        func buildUpgradeResponse(
            channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
        ) -> EventLoopFuture<HTTPHeaders> {
            var headers = HTTPHeaders()
            for field in upgrade.responseHeaders { headers.add(name: field.name.rawName, value: field.value) }
            return channel.eventLoop.makeSucceededFuture(headers)
        }

        func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
            context.eventLoop.makeCompletedFuture {
                let connection = try server.makeConnection(upgrade, on: context.channel)
                // Vapor keeps no task per connection: the connection's own task runs the handler and
                // the close handshake, and ends with the channel (Vapor's shutdown quiesces it: 1001).
                Task { await connection.run() }
            }.flatMapErrorThrowing { error in
                logger.error("switchboard: the upgraded connection could not be installed", metadata: ["error": "\(error)"])
                throw error
            }
        }
    }
}
