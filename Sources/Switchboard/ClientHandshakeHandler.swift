import NIOCore
import NIOHTTP1
import SwitchboardCore

/// Sends the opening handshake request and, on the response head, checks it
/// and installs the WebSocket handler in the same event-loop turn, so no byte
/// the server sends after its 101 can be lost (RFC 6455 §4.1).
final class ClientHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Given the status and headers, checks them and installs the connection (after this handler).
    typealias Upgrade = (_ status: Int, _ headers: HandshakeHeaders, _ context: ChannelHandlerContext) throws -> UpgradedConnection

    private let request: HandshakeRequest
    private let encoder: HTTPRequestEncoder
    private let decoder: ByteToMessageHandler<HTTPResponseDecoder>
    private let upgrade: Upgrade
    private let result: EventLoopPromise<UpgradedConnection>
    private var finished = false
    private var head: HTTPResponseHead?

    init(request: HandshakeRequest, encoder: HTTPRequestEncoder, decoder: ByteToMessageHandler<HTTPResponseDecoder>,
         upgrade: @escaping Upgrade, result: EventLoopPromise<UpgradedConnection>) {
        self.request = request
        self.encoder = encoder
        self.decoder = decoder
        self.upgrade = upgrade
        self.result = result
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        for field in request.headers { headers.add(name: field.name, value: field.value) }
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: request.target, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end: if let head { upgrade(head, context: context) }
        }
    }

    /// Acts on the response once the decoder has reported its end, so that nothing more comes from the decoder but raw bytes.
    private func upgrade(_ head: HTTPResponseHead, context: ChannelHandlerContext) {
        finished = true
        var headers = HandshakeHeaders()
        for (name, value) in head.headers { headers.add(name: name, value: value) }
        do {
            let connection = try upgrade(Int(head.status.code), headers, context)
            let ops = context.pipeline.syncOperations
            ops.removeHandler(encoder, promise: nil)
            ops.removeHandler(context: context, promise: nil)
            ops.removeHandler(decoder, promise: nil)  // last: forwards bytes that followed the 101
            result.succeed(connection)
        } catch {
            result.fail(error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return context.fireErrorCaught(error) }
        finished = true
        result.fail(error as? WebSocketError ?? WebSocketError.handshakeFailed("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            result.fail(WebSocketError.handshakeFailed("the server closed the connection during the handshake"))
        }
        context.fireChannelInactive()
    }
}
