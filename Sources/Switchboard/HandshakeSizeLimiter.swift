import NIOCore
import SwitchboardCore

/// Counts the bytes of an opening handshake and answers 431 when they pass the
/// limit, so that a peer cannot make us buffer headers without end.
/// Removed as soon as the request head is complete.
final class HandshakeSizeLimiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limit: Int
    /// Written before closing (a server's 431); `nil` just closes (a client).
    private let refusal: String?
    private var seen = 0
    private var refused = false

    init(limit: Int, refusal: String?) {
        self.limit = limit
        self.refusal = refusal
    }

    /// The server's answer to an oversized request head (RFC 6585 §5).
    static let serverRefusal = "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        seen += unwrapInboundIn(data).readableBytes
        guard seen <= limit else {
            refused = true
            guard let refusal else {
                context.fireErrorCaught(WebSocketError.handshakeFailed("response head larger than \(limit) bytes"))
                context.close(promise: nil)
                return
            }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: refusal))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }
}
