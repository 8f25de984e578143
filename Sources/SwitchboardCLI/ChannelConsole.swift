import ArgumentParser
import Multiplex
import NIOCore
import Switchboard
import SwitchboardBench
import SwitchboardCore

/// `--channel PATH[=SUBPROTOCOL,...]`: a logical channel for `switchboard connect` to open.
struct ChannelSpec {
    var path: String
    var subprotocols: [String]

    init(_ text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard let path = parts.first, path.hasPrefix("/") else { throw ValidationError("--channel takes PATH or PATH=SUBPROTOCOL[,...]: \(text)") }
        self.path = String(path)
        self.subprotocols = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
    }
}

/// `switchboard connect` over several logical channels of one multiplexed connection.
///
/// Channel 0 is the URL's own (the implicit channel), 1... the `--channel`s in
/// order. A stdin line goes to every channel, or with a `[i] ` prefix to
/// channel i only; each message received prints as `[i] text` or
/// `[i] binary N bytes: HEX`. At the end of stdin every channel is closed and
/// its close awaited (echoes in flight still arrive), then the physical one.
struct ChannelConsole {
    let url: String
    let configuration: WebSocketClientConfiguration
    let channels: [ChannelSpec]
    let binary: Bool

    func run() async throws {
        let close: WebSocketCloseFrame?
        do {
            close = try await WebSocketConnector.connect(to: url, configuration: configuration) { inbound, outbound, context in
                guard context.canOpenChannels else { throw MultiplexError.channelRefused("the server did not accept multiplexing") }
                var endpoints = [WebSocketLogicalChannel(inbound: inbound, outbound: outbound, context: context)]
                for spec in channels {
                    endpoints.append(try await context.openChannel(path: spec.path, subprotocols: spec.subprotocols))
                }
                for (index, endpoint) in endpoints.enumerated() {
                    let extensions = endpoint.context.extensions.filter { $0 != "mux" && $0 != "mux_DO_NOT_USE" }
                    StandardStream.standardError.write(
                        "channel \(index): subprotocol \(endpoint.context.subprotocol ?? "none"), "
                            + "extensions \(extensions.isEmpty ? "none" : extensions.joined(separator: ", "))\n")
                }
                try await exchange(over: endpoints)
            }
        } catch {
            StandardStream.standardError.write("error: \(error)\n")
            throw ExitCode(1)
        }
        StandardStream.standardError.write("closed: \(close?.code.map { String($0.rawValue) } ?? "1005") \(close?.reason ?? "")\n")
    }

    private func exchange(over endpoints: [WebSocketLogicalChannel]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, endpoint) in endpoints.enumerated() {
                group.addTask {
                    do {
                        for try await message in endpoint.inbound { StandardStream.standardOutput.write("[\(index)] \(Self.describe(message))\n") }
                    } catch {
                        StandardStream.standardError.write("channel \(index) ended: \(error)\n")
                    }
                }
            }
            for await line in StandardInputLines() {
                let (targets, text) = Self.route(line, channelCount: endpoints.count)
                for index in targets {
                    try await endpoints[index].outbound.send(binary ? .binary(Array(text.utf8)) : .text(text))
                }
            }
            // Added channels first: closing the implicit one may make the server close everything.
            for endpoint in endpoints.dropFirst() { try? await endpoint.outbound.close(.normalClosure) }
            try? await endpoints[0].outbound.close(.normalClosure)
            try await group.waitForAll()
        }
    }

    /// The channels a stdin line goes to, and its text.
    static func route(_ line: String, channelCount: Int) -> (targets: Range<Int>, text: String) {
        if line.hasPrefix("["), let end = line.firstIndex(of: "]"), let index = Int(line[line.index(after: line.startIndex)..<end]),
            (0..<channelCount).contains(index)
        {
            var text = line[line.index(after: end)...]
            if text.first == " " { text = text.dropFirst() }
            return (index..<index + 1, String(text))
        }
        return (0..<channelCount, line)
    }

    static func describe(_ message: WebSocketMessage) -> String {
        if let text = message.text { return text }
        let hex = message.data.readableBytesView.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return "binary \(message.data.readableBytes) bytes: \(hex.joined())"
    }
}
