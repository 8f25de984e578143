import Logging
import SwitchboardTestSupport
import Testing

@testable import Switchboard

/// A server connection's logger: the server's handler, with `peer` and `path` on every line.
@Suite("ConnectionLogHandler: a connection's peer and path on its log lines")
struct ConnectionLogHandlerTests {
    /// Keeps each written line's metadata, as the handler received it.
    struct MetadataRecorder: LogHandler {
        let lines: Locked<[Logger.Metadata]>
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
            lines.withLock { $0.append(merged) }
        }
    }

    static func logger(_ lines: Locked<[Logger.Metadata]>, serverMetadata: Logger.Metadata = [:]) -> Logger {
        var logger = Logger(label: "test") { _ in MetadataRecorder(lines: lines, metadata: serverMetadata) }
        logger.handler = ConnectionLogHandler(logger.handler, peer: "127.0.0.1:5000", path: "/chat")
        return logger
    }

    @Test("Written lines carry peer and path beside the server's and the line's own metadata; lines below the level are not written")
    func linesCarryTheConnection() {
        let lines = Locked<[Logger.Metadata]>([])
        let logger = Self.logger(lines, serverMetadata: ["server": "a"])
        logger.debug("below the level")
        logger.info("closing", metadata: ["code": "1011"])
        #expect(lines.value.count == 1)
        #expect(lines.value.first == ["server": "a", "peer": "127.0.0.1:5000", "path": "/chat", "code": "1011"])
        #expect(logger[metadataKey: "path"] == "/chat")
        #expect(logger.handler.metadata == ["server": "a", "peer": "127.0.0.1:5000", "path": "/chat"])
    }

    @Test("What a handler sets on its logger wins over the connection's keys, and stays on its own copy")
    func setKeysWin() {
        let lines = Locked<[Logger.Metadata]>([])
        let shared = Self.logger(lines)
        var logger = shared
        logger[metadataKey: "path"] = "/renamed"
        logger[metadataKey: "user"] = "alice"
        logger.logLevel = .debug
        logger.debug("one")
        shared.debug("not written: the shared logger is still at info")
        shared.info("two", metadata: ["peer": "explicit"])
        #expect(
            lines.value == [
                ["peer": "127.0.0.1:5000", "path": "/renamed", "user": "alice"],
                ["peer": "explicit", "path": "/chat"],
            ])
    }
}
