import JSONRPC
import Testing

/// Every example of §7 of the JSON-RPC 2.0 specification, sent as written to
/// the demo service over a real connection; each answer must have the same
/// members and values as the specification's (batch answers in any order, §6).
@Suite("JSON-RPC 2.0 §7: the specification's examples")
struct SpecificationExamplesTests {
    /// `-->` as sent, and `<--` as the specification shows it; `nil` when no answer may come.
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let request: String
        let response: String?
        var testDescription: String { name }
    }

    static let examples: [Example] = [
        Example(
            name: "rpc call with positional parameters (1)",
            request: #"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            response: #"{"jsonrpc": "2.0", "result": 19, "id": 1}"#),
        Example(
            name: "rpc call with positional parameters (2)",
            request: #"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
            response: #"{"jsonrpc": "2.0", "result": -19, "id": 2}"#),
        Example(
            name: "rpc call with named parameters (1)",
            request: #"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            response: #"{"jsonrpc": "2.0", "result": 19, "id": 3}"#),
        Example(
            name: "rpc call with named parameters (2)",
            request: #"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
            response: #"{"jsonrpc": "2.0", "result": 19, "id": 4}"#),
        Example(
            name: "a Notification (1)",
            request: #"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
            response: nil),
        Example(
            name: "a Notification (2)",
            request: #"{"jsonrpc": "2.0", "method": "foobar"}"#,
            response: nil),
        Example(
            name: "rpc call of non-existent method",
            request: #"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
            response: #"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#),
        Example(
            name: "rpc call with invalid JSON",
            request: #"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
            response: #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#),
        Example(
            name: "rpc call with invalid Request object",
            request: #"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
            response: #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#),
        Example(
            name: "rpc call Batch, invalid JSON",
            request: """
                [
                  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                  {"jsonrpc": "2.0", "method"
                ]
                """,
            response: #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#),
        Example(
            name: "rpc call with an empty Array",
            request: "[]",
            response: #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#),
        Example(
            name: "rpc call with an invalid Batch (but not empty)",
            request: "[1]",
            response: #"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#),
        Example(
            name: "rpc call with invalid Batch",
            request: "[1,2,3]",
            response: """
                [
                  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
                  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
                  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
                ]
                """),
        Example(
            name: "rpc call Batch",
            request: """
                [
                    {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
                    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
                    {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
                    {"foo": "boo"},
                    {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
                    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
                ]
                """,
            response: """
                [
                    {"jsonrpc": "2.0", "result": 7, "id": "1"},
                    {"jsonrpc": "2.0", "result": 19, "id": "2"},
                    {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
                    {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
                    {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
                ]
                """),
        Example(
            name: "rpc call Batch (all notifications)",
            request: """
                [
                    {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
                    {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
                ]
                """,
            response: nil),
    ]

    @Test("§7 example", arguments: examples)
    func example(_ example: Example) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                try await wire.send(example.request)
                if let expected = example.response {
                    let answer = try await wire.receive()
                    let wanted = try json(expected)
                    if case .array(let answers) = answer, case .array(let wantedAnswers) = wanted {
                        #expect(sameElements(answers, wantedAnswers), "got \(answer)")
                    } else {
                        #expect(answer == wanted)
                    }
                } else {
                    // Nothing may answer a notification: the next answer is the probe's.
                    let probe = try await wire.exchange(#"{"jsonrpc": "2.0", "method": "subtract", "params": [1, 1], "id": "probe"}"#)
                    #expect(probe == (try json(#"{"jsonrpc": "2.0", "result": 0, "id": "probe"}"#)))
                }
                let stray = await wire.stray()
                #expect(stray == nil, "nothing more may arrive")
            }
        }
    }
}
