import FuzzDriver
import NIOCore
import PerMessageDeflate
import SwitchboardCore

/// The HTTP head reader and the server's evaluation of an opening handshake (routing,
/// origin, subprotocols, extension negotiation), then the client's check of the same
/// bytes read as a response: the input is a request head cut into reads by its first byte.
@_cdecl("FuzzHandshake_main")
public func fuzzHandshakeMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzHandshake)
}

func fuzzHandshake(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    guard count > 0 else { return 0 }
    let readSize = Int(start[0]) + 1
    var reader = HTTPHeadReader(limit: 4096)
    var offset = 1
    while offset < count {
        let length = min(readSize, count - offset)
        let read = ByteBuffer(bytes: UnsafeBufferPointer(start: start + offset, count: length))
        offset += length
        guard let (head, _) = try? reader.read(read) else { continue }
        if let request = HandshakeRequest(head: head, remoteAddress: nil) {
            _ = request.path
            _ = request.query
            switch Handshakes.server.evaluate(request) {
            case .accept(let accepted): _ = accepted.responseHeaders
            case .reject(let rejection): precondition((400...599).contains(rejection.status), "a rejection that is not an HTTP error")
            }
        }
        // The same head as a response to a client that offered a subprotocol and deflate.
        if let status = head.startLine.count > 1 ? Int(head.startLine[1]) : nil {
            _ = try? Handshakes.client.validate(status: status, headers: head.headers)
        }
        break
    }
    return 0
}

enum Handshakes {
    static let server: WebSocketServerHandshake = {
        var routes = WebSocketRoutes()
        let handler = ClosureWebSocketHandler { _, _, _ in }
        var chat = SubprotocolRegistry(requiresSubprotocol: true)
        chat.register("chat.v1", handler)
        routes.add("/chat", chat)
        routes.add("/echo", handler: handler)
        return WebSocketServerHandshake(routes: routes, extensions: [PerMessageDeflate()], originPolicy: .allow(["http://localhost"]))
    }()

    static let client = WebSocketClientHandshake(
        host: "localhost", target: "/chat", subprotocols: ["chat.v1"],
        extensions: [PerMessageDeflate()])
}
