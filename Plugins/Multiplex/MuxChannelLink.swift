import NIOCore
import SwitchboardCore

/// What one channel's handler does, passed to its ``MuxCarrier`` with the channel's number.
final class MuxChannelLink: WebSocketSessionDelegate {
    private weak var carrier: MuxCarrier?
    let channel: LogicalChannelID

    init(carrier: MuxCarrier, channel: LogicalChannelID) {
        self.carrier = carrier
        self.channel = channel
    }

    func send(_ message: WebSocketMessage, completion: @escaping (Result<Void, WebSocketError>) -> Void) {
        guard let carrier else { return completion(.failure(.connectionClosed)) }
        carrier.session.send(message, on: channel, completion: completion)
    }

    func ping(_ payload: ByteBuffer) { try? carrier?.session.ping(payload, on: channel) }

    func close(code: WebSocketCloseCode, reason: String) { carrier?.close(channel, code: code, reason: reason, finished: false) }

    func handlerFinished(code: WebSocketCloseCode, reason: String) {
        carrier?.close(channel, code: code, reason: reason, finished: true)
    }

    func readMore() { carrier?.session.readMore(channel) }
}
