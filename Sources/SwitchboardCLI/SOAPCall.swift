import ArgumentParser
import Logging
import SOAP
import Switchboard
import SwitchboardBench
import SwitchboardCore
import SwitchboardJSON
import Synchronization

/// `switchboard soap-call`: calls SOAP operations over one WebSocket, all at once, through
/// the typed client (`SOAPPeer.call`), and prints each answer as a JSON line.
struct SOAPCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soap-call",
        abstract: "Call SOAP operations over one WebSocket (subprotocol soap), concurrently; print one JSON line per call, in order.",
        discussion: """
            Each CALL is 'Operation name=value ...': the request element <Operation> in --namespace with one child per \
            field. An answer prints as {"operation": ..., "result": {field: text}} or {"operation": ..., "fault": {"code", \
            "subcode", "reason"}}; one-way messages the server pushes print afterwards as {"push": element, "body": {...}}.
            """
    )

    @Argument(help: "ws:// or wss:// URL of the SOAP endpoint.") var url: String
    @Option(help: "Namespace of the operations' elements.") var namespace: String
    @Flag(help: "Speak SOAP 1.1 (text/xml) instead of 1.2.") var soap11 = false
    @Option(help: "After the calls, wait for this many pushed one-way messages before closing.") var waitPushes = 0
    @Option(help: "Seconds to wait for each answer, and for the pushes.") var timeout = 30
    @Argument(help: "Calls: 'Operation name=value ...'.") var calls: [String]
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap(default: .warning)
        let requests = try calls.map(Request.init)
        let pushes = Pushes()
        var operations = SOAPOperations(namespace: namespace)
        operations.registerFallback { element, _ in
            pushes.add(element)
            return nil
        }
        let timeout = Duration.seconds(timeout)
        let waitPushes = self.waitPushes
        let handler = SOAPHandler(operations: operations, configuration: SOAPConfiguration(version: soap11 ? .soap11 : .soap12)) { peer in
            let answers = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask { (index, await request.run(on: peer, timeout: timeout)) }
                }
                var answers = [JSONValue](repeating: .null, count: requests.count)
                for try await (index, answer) in group { answers[index] = answer }
                return answers
            }
            for answer in answers { printJSONLine(answer) }
            await pushes.wait(for: waitPushes, timeout: timeout)
            for element in pushes.taken(waitPushes) { printJSONLine(["push": .string(element.name.local), "body": Request.fields(of: element)]) }
        }
        let configuration = WebSocketClientConfiguration(subprotocols: [SOAPHandler.token], headers: handler.handshakeHeaders)
        do {
            _ = try await WebSocketConnector.connect(to: url, configuration: configuration) { try await handler.handle($0, $1, context: $2) }
        } catch {
            StandardStream.standardError.write("error: \(error)\n")
            throw ExitCode(1)
        }
    }

    /// One call from the command line.
    struct Request: Sendable {
        var operation: String
        var fields: [(name: String, value: String)]

        init(_ text: String) throws {
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { throw ValidationError("an empty call") }
            operation = String(first)
            fields = try words.dropFirst().map { word in
                guard let equals = word.firstIndex(of: "=") else { throw ValidationError("'\(word)' is not name=value") }
                return (String(word[..<equals]), String(word[word.index(after: equals)...]))
            }
        }

        func run(on peer: SOAPPeer, timeout: Duration) async -> JSONValue {
            do {
                let result = try await peer.call(operation, Fields(fields: fields), as: [String: String].self, timeout: timeout)
                return ["operation": .string(operation), "result": .object(result.mapValues(JSONValue.string))]
            } catch let fault as SOAPFault {
                var description: [String: JSONValue] = [
                    "code": .string(fault.code.name(in: peer.version)), "reason": .string(fault.reason),
                ]
                if let subcode = fault.subcodes.first { description["subcode"] = .string(subcode.local) }
                return ["operation": .string(operation), "fault": .object(description)]
            } catch {
                return ["operation": .string(operation), "error": .string("\(error)")]
            }
        }

        /// An element's children as name: text.
        static func fields(of element: XElement) -> JSONValue {
            .object(Dictionary(element.elements.map { ($0.name.local, JSONValue.string($0.text)) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    /// The request's fields, in command-line order.
    struct Fields: Encodable, Sendable {
        var fields: [(name: String, value: String)]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for field in fields { try container.encode(field.value, forKey: Key(stringValue: field.name)) }
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    /// One-way messages the server pushed.
    final class Pushes: Sendable {
        private let elements = Mutex<[XElement]>([])

        func add(_ element: XElement) { elements.withLock { $0.append(element) } }

        /// Waits until `count` have come, or `timeout` has passed.
        func wait(for count: Int, timeout: Duration) async {
            let deadline = ContinuousClock.now + timeout
            while elements.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }

        func taken(_ count: Int) -> [XElement] { elements.withLock { Array($0.prefix(count)) } }
    }
}
