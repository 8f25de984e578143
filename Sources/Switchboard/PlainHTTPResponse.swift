import NIOCore
import NIOSSL
import SwitchboardCore

/// A plain HTTP answer, for requests that are not WebSocket handshakes. (Not `HTTPResponse`:
/// swift-http-types, which Hummingbird and Vapor export, has a type of that name.)
public struct PlainHTTPResponse: Sendable {
    public var status: Int
    public var headers: HandshakeHeaders
    public var body: ByteBuffer

    public init(status: Int, headers: HandshakeHeaders = ["Content-Type": "text/plain; charset=utf-8"], body: String) {
        self.status = status
        self.headers = headers
        self.body = ByteBuffer(string: body)
    }

    public init(status: Int, headers: HandshakeHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
