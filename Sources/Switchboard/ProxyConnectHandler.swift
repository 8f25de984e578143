import NIOCore
import SwitchboardCore

/// Opens a tunnel through an HTTP proxy with `CONNECT host:port` (RFC 9110 §9.3.6)
/// and succeeds when the proxy answers 2xx. Reads the response head by hand:
/// the answer to CONNECT has no body, and the bytes after it belong to the tunnel.
final class ProxyConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let target: String
    private let authorization: String?
    private let done: EventLoopPromise<Void>
    private var reader: HTTPHeadReader
    private var finished = false

    init(target: String, authorization: String?, maxHeadSize: Int, done: EventLoopPromise<Void>) {
        self.target = target
        self.authorization = authorization
        self.reader = HTTPHeadReader(limit: maxHeadSize)
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added after the channel went inactive, this handler would never hear of it.
        guard context.channel.isActive else { return settle(.failure(WebSocketError.handshakeFailed("proxy closed the connection"))) }
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            guard let (head, rest) = try reader.read(unwrapInboundIn(data)) else { return }
            let statusLine = head.startLine.joined(separator: " ")
            guard head.startLine[0].hasPrefix("HTTP/1."), let status = Int(head.startLine[1]) else {
                fail(context, "malformed proxy response: \(statusLine)")
                return
            }
            guard (200..<300).contains(status) else {
                fail(context, WebSocketError.proxyRefused(status: status))
                return
            }
            settle(.success(()))
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            fail(context, "proxy response: \(error)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(.failure(WebSocketError.handshakeFailed("proxy closed the connection")))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(.failure(WebSocketError.handshakeFailed("proxy closed the connection")))
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        fail(context, WebSocketError.handshakeFailed(reason))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: WebSocketError) {
        settle(.failure(error))
        context.close(promise: nil)
    }

    /// Completes `done` once: the first outcome wins.
    private func settle(_ outcome: Result<Void, any Error>) {
        guard !finished else { return }
        finished = true
        done.completeWith(outcome)
    }
}
