import ArgumentParser
import Dispatch
import Logging
import Multiplex
import NIOCore
import NIOSSL
import SOAP
import Switchboard
import SwitchboardBench
import SwitchboardCore
import SwitchboardRegistry

struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a WebSocket server: stdin lines become text messages, received messages go to stdout."
    )

    @Argument(help: "ws:// or wss:// URL.") var url: String
    @Option(name: .customLong("subprotocol"), help: "Offer a subprotocol (repeatable, most preferred first).")
    var subprotocols: [String] = []
    @Option(name: .customLong("header"), help: "Add a request header, 'Name: value' (repeatable).")
    var headers: [String] = []
    @Flag(help: "Send back every message received until the peer closes (no stdin).") var echo = false
    @Option(help: "HTTP proxy as host:port, tunnelled with CONNECT.") var proxy: String?
    @Flag(help: "Without --proxy, use the proxy of https_proxy / http_proxy / all_proxy, unless no_proxy names the host.")
    var proxyFromEnv = false
    @Flag(help: "Do not verify the server's TLS certificate.") var insecure = false
    @Option(help: "PEM file of the certificates to trust for wss, instead of the system's.") var caFile: String?
    @Flag(help: "Do not offer permessage-deflate.") var noDeflate = false
    @Option(help: "Largest message accepted, in bytes.") var maxMessageSize = 16 * 1024 * 1024
    @Option(
        name: .customLong("channel"),
        help: "Open a multiplexed channel, PATH or PATH=SUBPROTOCOL[,SUBPROTOCOL...] (repeatable; implies --mux). Channel 0 is the URL's own.")
    var channels: [String] = []
    @Flag(help: "Offer multiplexing: output lines become '[i] message', and a stdin line '[i] text' goes to channel i only.")
    var mux = false
    @Option(help: "The multiplexing token to offer: mux (draft 11) or mux_DO_NOT_USE (draft 06, mod_pywebsocket).")
    var muxToken = MuxRevision.draft11.token
    @Flag(help: "Send stdin lines as binary messages.") var binary = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap(default: .warning)
        var configuration = WebSocketClientConfiguration(subprotocols: subprotocols)
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else { throw ValidationError("--header takes 'Name: value'") }
            configuration.headers.add(name: String(header[..<colon]), value: String(header[header.index(after: colon)...]).trimmingCharacters())
        }
        // [MS-SWSB]: a client offering `soap` names its envelopes' media type; SOAP 1.2 unless told otherwise.
        if subprotocols.contains(SOAPHandler.token), configuration.headers[SOAPHandler.contentTypeHeader].isEmpty {
            configuration.headers.add(name: SOAPHandler.contentTypeHeader, value: SOAPVersion.soap12.contentType)
        }
        if let proxy {
            guard let colon = proxy.lastIndex(of: ":"), let port = Int(proxy[proxy.index(after: colon)...]) else {
                throw ValidationError("--proxy takes host:port")
            }
            configuration.proxy = HTTPProxy(host: String(proxy[..<colon]), port: port)
        }
        configuration.proxyFromEnvironment = proxyFromEnv
        if insecure { configuration.tls.certificateVerification = .none }
        if let caFile { configuration.tls.trustRoots = .file(caFile) }
        configuration.connection.limits = WebSocketLimits(maxFrameSize: maxMessageSize, maxMessageSize: maxMessageSize)
        // Extensions listed before the multiplexing token apply to each channel.
        let multiplexing = mux || !channels.isEmpty
        guard MuxRevision(token: muxToken) != nil else { throw ValidationError("--mux-token takes mux or mux_DO_NOT_USE") }
        configuration.extensions = SwitchboardRegistry.extensions
            .filter { $0.token == "permessage-deflate" ? !noDeflate : (multiplexing && $0.token == muxToken) }
            .compactMap { $0.makeExtension?(maxMessageSize) }
        if multiplexing {
            let specs = try channels.map(ChannelSpec.init)
            try await ChannelConsole(url: url, configuration: configuration, channels: specs, binary: binary).run()
            return
        }

        let binary = self.binary
        let echo = self.echo
        let close: WebSocketCloseFrame?
        do {
            close = try await WebSocketConnector.connect(to: url, configuration: configuration) { inbound, outbound, context in
                StandardStream.standardError.write("subprotocol: \(context.subprotocol ?? "none")\n")
                StandardStream.standardError.write(
                    "extensions: \(context.extensions.isEmpty ? "none" : context.extensions.joined(separator: ", "))\n")
                if echo {
                    for try await message in inbound { try await outbound.send(message) }
                    return
                }
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        for try await message in inbound {
                            if let text = message.text {
                                StandardStream.standardOutput.write(text + "\n")
                            } else {
                                StandardStream.standardOutput.write("binary \(message.data.readableBytes) bytes\n")
                            }
                        }
                        return true
                    }
                    group.addTask {
                        for await line in StandardInputLines() {
                            try await outbound.send(binary ? .binary(Array(line.utf8)) : .text(line))
                        }
                        try await outbound.close(.normalClosure)
                        return false
                    }
                    // The peer closed first: stop reading stdin. Stdin ended first: wait for the peer's close.
                    if try await group.next() == true { group.cancelAll() } else { _ = try await group.next() }
                }
            }
        } catch {
            StandardStream.standardError.write("error: \(error)\n")
            throw ExitCode(1)
        }
        if let close {
            StandardStream.standardError.write("closed: \(close.code.map { String($0.rawValue) } ?? "1005") \(close.reason)\n")
        } else {
            StandardStream.standardError.write("closed: 1006 connection dropped without a close frame\n")
        }
    }
}

/// Lines of standard input, read on a background thread.
struct StandardInputLines: AsyncSequence {
    typealias Element = String

    func makeAsyncIterator() -> AsyncStream<String>.Iterator {
        AsyncStream<String> { continuation in
            DispatchQueue.global().async {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
        }.makeAsyncIterator()
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
