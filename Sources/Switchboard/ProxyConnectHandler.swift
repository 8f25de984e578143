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
    private let maxHeadSize: Int
    private let done: EventLoopPromise<Void>
    private var received: ByteBuffer?

    init(target: String, authorization: String?, maxHeadSize: Int, done: EventLoopPromise<Void>) {
        self.target = target
        self.authorization = authorization
        self.maxHeadSize = maxHeadSize
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization { request += "Proxy-Authorization: \(authorization)\r\n" }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if received == nil { received = incoming } else { received!.writeBuffer(&incoming) }
        let view = received!.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if view.count > maxHeadSize { fail(context, "proxy response head too large") }
            return
        }
        let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        let statusLine = head.prefix { $0 != "\r" }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            fail(context, "malformed proxy response: \(statusLine)")
            return
        }
        guard (200..<300).contains(status) else {
            fail(context, "proxy refused CONNECT \(target): \(statusLine)")
            return
        }
        let rest = received!.getSlice(at: end.upperBound, length: view.endIndex - end.upperBound)!
        received = nil
        done.succeed()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(WebSocketError.handshakeFailed("proxy closed the connection"))
        context.fireChannelInactive()
    }

    private func fail(_ context: ChannelHandlerContext, _ reason: String) {
        done.fail(WebSocketError.handshakeFailed(reason))
        context.close(promise: nil)
    }
}
