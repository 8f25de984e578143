import ArgumentParser
import Logging
import SwitchboardBench

@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A WebSocket server, client and toolbox.",
        subcommands: [Serve.self, Connect.self, SOAPCall.self, XMPPChat.self, Bench.self, Plugins.self]
    )
}

/// Options every subcommand shares.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level?

    func bootstrap(default level: Logger.Level) {
        let chosen = logLevel ?? level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}

// swift-format-ignore: AvoidRetroactiveConformances
// `--log-level` parses swift-log's levels; neither package declares this conformance.
extension Logger.Level: @retroactive ExpressibleByArgument {}
