import NIOCore
import SwitchboardCore

/// Sends the opening handshake request and, when the response head is in,
/// checks it and installs the WebSocket handler in the same event-loop turn,
/// passing on the bytes that followed the 101 (RFC 6455 §4.1).
final class ClientHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Given the status and headers, checks them and installs the connection (after this handler).
    typealias Upgrade = (_ status: Int, _ headers: HandshakeHeaders, _ context: ChannelHandlerContext) throws -> UpgradedConnection

    private let request: HandshakeRequest
    private let upgrade: Upgrade
    private let result: EventLoopPromise<UpgradedConnection>
    private var reader: HTTPHeadReader
    private var finished = false

    init(request: HandshakeRequest, maxHeadSize: Int, upgrade: @escaping Upgrade, result: EventLoopPromise<UpgradedConnection>) {
        self.request = request
        self.reader = HTTPHeadReader(limit: maxHeadSize)
        self.upgrade = upgrade
        self.result = result
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added after the channel went inactive (it closed while the client hopped to its loop),
        // this handler would never hear of it.
        guard context.channel.isActive else {
            return fail(WebSocketError.handshakeFailed("the server closed the connection before the handshake"))
        }
        let head = HTTPHeadWriter.request(method: request.method, target: request.target, headers: request.headers)
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(WebSocketError.handshakeFailed("the connection closed during the handshake"))
    }

    /// Fails the result unless it is already settled.
    private func fail(_ error: WebSocketError) {
        guard !finished else { return }
        finished = true
        result.fail(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        do {
            guard let (head, rest) = try reader.read(unwrapInboundIn(data)) else { return }
            guard head.startLine[0].hasPrefix("HTTP/1."), let status = Int(head.startLine[1]) else {
                throw WebSocketError.handshakeFailed("malformed status line: \(head.startLine.joined(separator: " "))")
            }
            let connection = try upgrade(status, head.headers, context)
            finished = true
            result.succeed(connection)
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            switch error {
            case let error as WebSocketError: fail(error)
            case HTTPHeadReader.ReadError.tooLarge: fail(WebSocketError.handshakeFailed("response head larger than \(reader.limit) bytes"))
            default: fail(WebSocketError.handshakeFailed("\(error)"))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return context.fireErrorCaught(error) }
        fail(WebSocketConnector.describeTLSFailure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(WebSocketError.handshakeFailed("the server closed the connection during the handshake"))
        context.fireChannelInactive()
    }
}
