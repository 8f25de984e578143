import NIOCore
import SwitchboardCore

/// The opening handshake of a logical channel, as AddChannelRequest and
/// AddChannelResponse carry it (draft 06 §7, as mod_pywebsocket 0.7.9 writes it).
///
/// The physical connection already settled `Upgrade`, the key and the
/// version, so a channel's request leaves them out and its response carries
/// no `Upgrade` and no `Sec-WebSocket-Accept`. To run a channel's request
/// through the same server checks as a socket's, the receiver puts the
/// settled fields back first.
enum MuxChannelHandshake {
    /// A key of the right form for the server checks; nothing is derived from it.
    static let settledKey = "AAAAAAAAAAAAAAAAAAAAAA=="

    /// Server: the request of an AddChannelRequest, over the delta base when delta-encoded.
    static func request(from block: MuxAddChannelRequest, base: HandshakeRequest, limit: Int) throws(HandshakeRejection) -> HandshakeRequest {
        guard block.handshake.readableBytes <= limit else { throw HandshakeRejection(status: 431, reason: "channel handshake too large") }
        let text = String(buffer: block.handshake)
        let head: HTTPHeadReader.Head
        do { head = try HTTPHeadReader.parse(Self.trimmingEmptyLine(text)) } catch {
            throw HandshakeRejection(status: 400, reason: "malformed channel handshake: \(error)")
        }
        guard head.startLine.count == 3, head.startLine[2] == "HTTP/1.1" else {
            throw HandshakeRejection(status: 400, reason: "bad channel request line: \(head.startLine.joined(separator: " "))")
        }
        let headers = block.encoding == .delta ? MuxHandshakeDelta.apply(head.headers, to: base.headers) : head.headers
        return HandshakeRequest(method: head.startLine[0], target: head.startLine[1], headers: headers, remoteAddress: base.remoteAddress)
    }

    /// Server: the request with the fields the physical handshake settled, ready for the server's checks.
    /// A channel cannot itself be multiplexed: offers of multiplexing are taken out.
    static func settled(_ request: HandshakeRequest) -> HandshakeRequest {
        var settled = request
        let muxTokens = Set(MuxRevision.allCases.map(\.token))
        if let offers = try? ExtensionHeader.parse(request.headers["Sec-WebSocket-Extensions"]),
            offers.contains(where: { muxTokens.contains($0.token) })
        {
            let kept = offers.filter { !muxTokens.contains($0.token) }
            settled.headers = HandshakeHeaders(settled.headers.fields.filter { !$0.name.equalsIgnoringASCIICase("Sec-WebSocket-Extensions") })
            if !kept.isEmpty { settled.headers.add(name: "Sec-WebSocket-Extensions", value: ExtensionHeader.serialize(kept)) }
        }
        settled.headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        settled.headers.replaceOrAdd(name: "Sec-WebSocket-Version", value: "13")
        settled.headers.replaceOrAdd(name: "Sec-WebSocket-Key", value: settledKey)
        if !settled.headers.listContains("Connection", token: "upgrade") { settled.headers.replaceOrAdd(name: "Connection", value: "Upgrade") }
        return settled
    }

    /// Server: the AddChannelResponse handshake for an accepted channel.
    static func acceptedResponse(_ accepted: WebSocketServerHandshake.Accepted) -> ByteBuffer {
        var headers: HandshakeHeaders = ["Connection": "Upgrade"]
        for field in accepted.responseHeaders where ["sec-websocket-protocol", "sec-websocket-extensions"].contains(field.name.lowercased()) {
            headers.add(name: field.name, value: field.value)
        }
        return HTTPHeadWriter.response(status: 101, headers: headers)
    }

    /// Server: the AddChannelResponse handshake for a refused channel.
    static func rejectedResponse(_ rejection: HandshakeRejection) -> ByteBuffer {
        HTTPHeadWriter.response(status: rejection.status, headers: [:])
    }

    /// Client: the identity-encoded request for a new channel.
    static func clientRequest(_ request: HandshakeRequest) -> ByteBuffer {
        var headers = HandshakeHeaders()
        for field in request.headers where !["upgrade", "sec-websocket-key", "sec-websocket-version"].contains(field.name.lowercased()) {
            headers.add(name: field.name, value: field.value)
        }
        return HTTPHeadWriter.request(method: request.method, target: request.target, headers: headers)
    }

    /// Client: checks an accepted AddChannelResponse against what was offered
    /// (RFC 6455 §4.1 items 1, 3, 5, 6; the key and `Upgrade` were settled physically).
    static func validate(
        response block: MuxAddChannelResponse, subprotocols: [String], factories: [any WebSocketExtensionFactory],
        limit: Int
    ) throws -> (subprotocol: String?, extensions: [any WebSocketExtension]) {
        guard !block.rejected else {
            let status = (try? HTTPHeadReader.parse(trimmingEmptyLine(String(buffer: block.handshake))))?.startLine[1] ?? "?"
            throw MultiplexError.channelRefused("the server refused the channel (status \(status))")
        }
        guard block.encoding == .identity else { throw WebSocketError.handshakeFailed("delta-encoded channel response") }
        guard block.handshake.readableBytes <= limit else { throw WebSocketError.handshakeFailed("channel response larger than \(limit) bytes") }
        let head: HTTPHeadReader.Head
        do { head = try HTTPHeadReader.parse(trimmingEmptyLine(String(buffer: block.handshake))) } catch {
            throw WebSocketError.handshakeFailed("malformed channel response: \(error)")
        }
        guard head.startLine[0].hasPrefix("HTTP/1."), head.startLine[1] == "101" else {
            throw WebSocketError.handshakeFailed("channel response status \(head.startLine[1]), expected 101")
        }
        let chosen = head.headers.list("Sec-WebSocket-Protocol")
        guard chosen.count <= 1 else { throw WebSocketError.handshakeFailed("server chose more than one subprotocol for the channel") }
        if let token = chosen.first, !subprotocols.contains(token) {
            throw WebSocketError.handshakeFailed("server chose subprotocol \(token) for the channel, which was not offered")
        }
        do {
            let extensions = try ExtensionNegotiation.clientAccept(response: head.headers["Sec-WebSocket-Extensions"], factories: factories)
            return (chosen.first, extensions)
        } catch {
            throw WebSocketError.handshakeFailed(error.message)
        }
    }

    /// The head without the blank line that ends it.
    private static func trimmingEmptyLine(_ text: String) -> String {
        var text = Substring(text)
        while text.hasSuffix("\r\n") { text = text.dropLast() }  // CR LF is one Character
        return String(text)
    }
}
