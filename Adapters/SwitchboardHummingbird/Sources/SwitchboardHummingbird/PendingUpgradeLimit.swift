import Logging
import NIOCore

/// Closes a connection that sends more than `limit` bytes before its first request is settled
/// (upgraded, refused or handed to the app's router).
///
/// While Switchboard's accept hook runs, NIO's typed upgrade handler keeps every byte that
/// arrives behind the request, without bound: a peer could fill the server's memory for as long
/// as the hook takes (up to the handshake timeout). A client may not send frames before the 101,
/// so anything past a request head is not traffic a client owes us.
final class PendingUpgradeLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: Int
    private let logger: Logger
    private var received = 0
    private var closed = false

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            closed = true
            logger.notice(
                "closing a connection that sent more than the limit before its upgrade was settled",
                metadata: ["limit": "\(limit)", "peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
