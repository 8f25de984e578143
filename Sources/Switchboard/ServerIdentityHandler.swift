import NIOCore
import NIOSSL
import NIOTLS
import SwitchboardCore

/// Waits for the TLS handshake in front of it and then checks, before anything is sent, that
/// the server's certificate names the host of the URL (``CertificateIdentity``). For wss
/// through a proxy, where SwiftNIO SSL checks the chain but not the name (see ``HTTPProxy``).
final class ServerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let host: String
    private let done: EventLoopPromise<Void>
    private var settled = false

    init(host: String, done: EventLoopPromise<Void>) {
        self.host = host
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if !context.channel.isActive { settle(.failure(WebSocketError.handshakeFailed("the proxy closed the connection"))) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(.failure(WebSocketError.handshakeFailed("the connection closed during the TLS handshake")))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event else { return context.fireUserInboundEventTriggered(event) }
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        guard let certificate, CertificateIdentity(certificate).covers(host: host) else {
            settle(.failure(WebSocketError.tlsFailed("the server's certificate does not name \(host)")))
            context.close(promise: nil)
            return
        }
        settle(.success(()))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settle(.failure(WebSocketConnector.describeTLSFailure(error)))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(.failure(WebSocketError.handshakeFailed("the connection closed during the TLS handshake")))
        context.fireChannelInactive()
    }

    /// Completes `done` once: the first outcome wins.
    private func settle(_ outcome: Result<Void, any Error>) {
        guard !settled else { return }
        settled = true
        done.completeWith(outcome)
    }
}
