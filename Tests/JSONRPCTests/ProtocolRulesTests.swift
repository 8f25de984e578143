import JSONRPC
import NIOCore
import SwitchboardCore
import SwitchboardExamples
import Testing

/// The rules of the specification beyond its examples (§4-§6), and the limits
/// that keep a hostile peer from costing more than a bounded amount.
@Suite("JSON-RPC 2.0 rules and limits")
struct ProtocolRulesTests {
    /// Sends `request`, then a probe; the probe's answer must be the first thing back.
    static func expectNoAnswer(to request: String, on wire: Wire) async throws {
        try await wire.send(request)
        let probe = try await wire.exchange(#"{"jsonrpc":"2.0","method":"subtract","params":[1,1],"id":"probe"}"#)
        #expect(probe == ["jsonrpc": "2.0", "result": 0, "id": "probe"], "\(request) was answered")
    }

    @Test(
        "§4: an id that is a string, a number or null comes back as it was sent",
        arguments: [
            #""abc""#, "7", "-3", "0", "9007199254740993", "1.5", "null", #""""#,
        ])
    func idKinds(_ id: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(#"{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":\#(id)}"#)
                #expect(answer == ["jsonrpc": "2.0", "result": 1, "id": try json(id)])
            }
        }
    }

    @Test(
        "§4.1: notifications are never answered, not even when they fail",
        arguments: [
            #"{"jsonrpc":"2.0","method":"subtract","params":["x"]}"#,
            #"{"jsonrpc":"2.0","method":"no_such_method","params":[1]}"#,
            #"{"jsonrpc":"2.0","method":"get_data","params":[1,2]}"#,
            #"[{"jsonrpc":"2.0","method":"no_such_method"},{"jsonrpc":"2.0","method":"sum","params":{"a":1}}]"#,
        ])
    func notificationsUnanswered(_ request: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in try await Self.expectNoAnswer(to: request, on: wire) }
        }
    }

    @Test(
        "§5: responses are never answered, even malformed ones or ones to no call",
        arguments: [
            #"{"jsonrpc":"2.0","result":1,"id":99}"#,
            #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}"#,
            #"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"both"},"id":1}"#,
            #"{"jsonrpc":"2.0","error":"not an object","id":1}"#,
            #"[{"jsonrpc":"2.0","result":1,"id":1},{"jsonrpc":"2.0","result":2,"id":2}]"#,
        ])
    func responsesUnanswered(_ response: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in try await Self.expectNoAnswer(to: response, on: wire) }
        }
    }

    @Test(
        "§4, §5.1: invalid requests are -32600, with the id when it could be read",
        arguments: [
            (#"{"jsonrpc":"1.0","method":"subtract","params":[2,1],"id":5}"#, JSONValue.integer(5)),
            (#"{"method":"subtract","params":[2,1],"id":"x"}"#, "x"),
            (#"{"jsonrpc":2.0,"method":"subtract","params":[2,1],"id":6}"#, 6),
            (#"{"jsonrpc":"2.0","method":"subtract","params":5,"id":7}"#, 7),
            (#"{"jsonrpc":"2.0","method":"subtract","params":"bar","id":8}"#, 8),
            (#"{"jsonrpc":"2.0","method":"subtract","params":null,"id":9}"#, 9),
            (#"{"jsonrpc":"2.0","method":null,"id":10}"#, 10),
            (#"{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":{"a":1}}"#, .null),
            (#"{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":[1]}"#, .null),
            (#"{"jsonrpc":"2.0","method":"subtract","params":[2,1],"id":true}"#, .null),
            (#"{"jsonrpc":"2.0","id":11}"#, 11),
            (#""a string""#, .null),
            ("42", .null),
            ("null", .null),
            ("{}", .null),
        ])
    func invalidRequests(_ request: String, id: JSONValue) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(request)
                #expect(answer == ["jsonrpc": "2.0", "error": ["code": -32600, "message": "Invalid Request"], "id": id])
            }
        }
    }

    @Test("§4: names beginning with rpc. are reserved; none is served", arguments: ["rpc.discover", "rpc.subtract", "rpc."])
    func reservedPrefix(_ method: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(#"{"jsonrpc":"2.0","method":"\#(method)","id":1}"#)
                #expect(answer == ["jsonrpc": "2.0", "error": ["code": -32601, "message": "Method not found"], "id": 1])
            }
        }
    }

    @Test(
        "§5.1: -32602 says which parameter failed",
        arguments: [
            (#"{"minuend":42}"#, "missing 'subtrahend'"),
            (#"["a", 1]"#, "'minuend'"),
            (#"{"minuend":42,"subtrahend":null}"#, "'subtrahend' must not be null"),
            ("[1,2,3]", "at most 2 by position (minuend, subtrahend), got 3"),
            ("[1]", "missing 'subtrahend'"),
            ("{}", "missing 'minuend'"),
        ])
    func invalidParams(_ params: String, mention: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(#"{"jsonrpc":"2.0","method":"subtract","params":\#(params),"id":1}"#)
                #expect(answer["error"]?["code"] == -32602)
                let message = answer["error"]?["message"]?.stringValue ?? ""
                #expect(message.hasPrefix("Invalid params: ") && message.contains(mention), "\(message)")
                #expect(answer["id"] == 1)
            }
        }
    }

    @Test("§5.1: -32602 for positional elements and for a method that takes none")
    func invalidParamsOtherShapes() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let sum = try await wire.exchange(#"{"jsonrpc":"2.0","method":"sum","params":[1,"x"],"id":1}"#)
                #expect(sum["error"]?["code"] == -32602)
                #expect(sum["error"]?["message"]?.stringValue?.contains("'params[1]'") == true, "\(sum)")
                let byName = try await wire.exchange(#"{"jsonrpc":"2.0","method":"sum","params":{"a":1},"id":2}"#)
                #expect(byName["error"]?["code"] == -32602)
                let data = try await wire.exchange(#"{"jsonrpc":"2.0","method":"get_data","params":[1],"id":3}"#)
                #expect(data["error"]?["message"]?.stringValue?.contains("no parameters") == true, "\(data)")
                let empty = try await wire.exchange(#"{"jsonrpc":"2.0","method":"get_data","params":[],"id":4}"#)
                #expect(empty["result"] == ["hello", 5])
            }
        }
    }

    @Test("§5.1: a thrown JSONRPCError goes out as it is; any other error is -32603 without its details")
    func thrownErrors() async throws {
        struct Secret: Error {}
        var methods = JSONRPCMethods()
        methods.register("fail") { (kind: [String], _) -> Int in
            if kind == ["rpc"] { throw JSONRPCError(code: 42, message: "No luck", data: ["tries": 3]) }
            throw Secret()
        }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods))) { port in
            try await withWire(port: port) { wire in
                let rpc = try await wire.exchange(#"{"jsonrpc":"2.0","method":"fail","params":["rpc"],"id":1}"#)
                #expect(rpc == ["jsonrpc": "2.0", "error": ["code": 42, "message": "No luck", "data": ["tries": 3]], "id": 1])
                let other = try await wire.exchange(#"{"jsonrpc":"2.0","method":"fail","params":["other"],"id":2}"#)
                #expect(other == ["jsonrpc": "2.0", "error": ["code": -32603, "message": "Internal error"], "id": 2])
            }
        }
    }

    @Test("§6: a batch answers its requests and invalid members, not its notifications or responses")
    func mixedBatch() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(
                    """
                    [{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":1},
                     {"jsonrpc":"2.0","method":"notify_sum","params":[1,2]},
                     {"jsonrpc":"2.0","result":5,"id":77},
                     {"jsonrpc":"2.0","method":"subtract","params":{"minuend":1},"id":2},
                     [],
                     {"jsonrpc":"2.0","method":"sum","params":[],"id":null}]
                    """)
                let responses = try #require(answer.arrayValue)
                #expect(
                    sameElements(
                        responses,
                        [
                            ["jsonrpc": "2.0", "result": 3, "id": 1],
                            ["jsonrpc": "2.0", "error": ["code": -32602, "message": "Invalid params: missing 'subtrahend'"], "id": 2],
                            ["jsonrpc": "2.0", "error": ["code": -32600, "message": "Invalid Request"], "id": .null],
                            ["jsonrpc": "2.0", "result": 0, "id": .null],
                        ]), "\(answer)")
                #expect(await wire.stray() == nil)
            }
        }
    }

    // MARK: Limits: every one answered, the connection still serving afterwards

    static let small = JSONRPCConfiguration(maxMessageSize: 4096, maxBatchLength: 3, maxNestingDepth: 8)

    @Test("Limit: a message over maxMessageSize is -32600, with the limit in data")
    func messageSize() async throws {
        try await withRPCServer(.jsonRPC(JSONRPCDemo.handler(configuration: Self.small))) { port in
            try await withWire(port: port) { wire in
                let numbers = Array(repeating: "1", count: 3000).joined(separator: ",")
                let answer = try await wire.exchange(#"{"jsonrpc":"2.0","method":"sum","params":[\#(numbers)],"id":1}"#)
                #expect(answer["error"]?["code"] == -32600)
                #expect(answer["error"]?["data"]?.stringValue?.contains("limit of 4096") == true, "\(answer)")
                #expect(answer["id"] == .null)
                try await Self.expectNoAnswer(to: #"{"jsonrpc":"2.0","method":"update"}"#, on: wire)
            }
        }
    }

    @Test("Limit: a batch longer than maxBatchLength is one -32600, and runs nothing")
    func batchLength() async throws {
        try await withRPCServer(.jsonRPC(JSONRPCDemo.handler(configuration: Self.small))) { port in
            try await withWire(port: port) { wire in
                let call = #"{"jsonrpc":"2.0","method":"sum","params":[1],"id":1}"#
                let answer = try await wire.exchange("[\(Array(repeating: call, count: 4).joined(separator: ","))]")
                #expect(answer["error"]?["code"] == -32600)
                #expect(answer["error"]?["data"]?.stringValue?.contains("limit of 3") == true, "\(answer)")
                let fits = try await wire.exchange("[\(Array(repeating: call, count: 3).joined(separator: ","))]")
                #expect(fits.arrayValue?.count == 3)
            }
        }
    }

    @Test("Limit: nesting deeper than maxNestingDepth is -32700, with the limit in data; at the limit it parses")
    func nestingDepth() async throws {
        try await withRPCServer(.jsonRPC(JSONRPCDemo.handler(configuration: Self.small))) { port in
            try await withWire(port: port) { wire in
                // The request object is level 1 and params level 2: 6 more levels reach 8.
                let atLimit = String(repeating: "[", count: 6) + String(repeating: "]", count: 6)
                let ok = try await wire.exchange(#"{"jsonrpc":"2.0","method":"update","params":[\#(atLimit)],"id":1}"#)
                #expect(ok == ["jsonrpc": "2.0", "result": .null, "id": 1])
                let deeper = "[" + atLimit + "]"
                let tooDeep = try await wire.exchange(#"{"jsonrpc":"2.0","method":"update","params":[\#(deeper)],"id":2}"#)
                #expect(tooDeep["error"]?["code"] == -32700)
                #expect(tooDeep["error"]?["data"]?.stringValue?.contains("limit of 8") == true, "\(tooDeep)")
                #expect(tooDeep["id"] == .null)
            }
        }
    }

    @Test(
        "Bad JSON is -32700 and never takes the connection down",
        arguments: [
            "", " ", "{", "}", "[", "[1,]", "[,1]", #"{"a" 1}"#, #"{"a":1,}"#, "01", "1.", ".5", "-", "+1", "1e", "0x10",
            "nul", "tru", "NaN", "Infinity", "1e999", #""\x""#, #""\u12""#, #""unterminated"#, "\"a\tb\"", "[1] [2]",
            "{\"jsonrpc\":\"2.0\",\"method\":\"sum\",\"params\":[1],\"id\":1}x", "\u{FEFF}[]", "'single'",
        ])
    func badJSON(_ text: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(text)
                #expect(answer["error"]?["code"] == -32700, "\(answer)")
                #expect(answer["id"] == .null)
                try await Self.expectNoAnswer(to: #"{"jsonrpc":"2.0","method":"update"}"#, on: wire)
            }
        }
    }

    @Test("Hostile nesting (100 000 levels) is -32700 at the depth limit, never a stack overflow")
    func hostileNesting() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                for text in [String(repeating: "[", count: 100_000), String(repeating: #"{"a":"#, count: 50_000)] {
                    let answer = try await wire.exchange(text)
                    #expect(answer["error"]?["code"] == -32700)
                    #expect(answer["error"]?["data"]?.stringValue?.contains("limit of 64") == true)
                }
            }
        }
    }

    @Test("Binary messages are read as UTF-8 JSON; invalid UTF-8 in one is -32700")
    func binaryMessages() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                try await wire.outbound.send(binary: ByteBuffer(string: #"{"jsonrpc":"2.0","method":"sum","params":[2,3],"id":1}"#))
                #expect(try await wire.receive() == ["jsonrpc": "2.0", "result": 5, "id": 1])
                var bad = ByteBuffer(string: #"{"jsonrpc":"2.0","method":"x"#)
                bad.writeBytes([0xC3, 0x28])
                bad.writeString(#"","id":1}"#)
                try await wire.outbound.send(binary: bad)
                #expect(try await wire.receive() == ["jsonrpc": "2.0", "error": ["code": -32700, "message": "Parse error"], "id": .null])
            }
        }
    }

    @Test("Strings survive escapes, surrogate pairs and non-ASCII both ways")
    func unicode() async throws {
        var methods = JSONRPCMethods()
        methods.register("echo") { (texts: [String], _) in texts }
        try await withRPCServer(.jsonRPC(JSONRPCHandler(methods: methods))) { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(
                    #"{"jsonrpc":"2.0","method":"echo","params":["h\u00e9\"\\/\n\t\u0001 \ud83d\ude00 wörld 👋🏽"],"id":"ü"}"#)
                #expect(answer == ["jsonrpc": "2.0", "result": ["hé\"\\/\n\t\u{01} 😀 wörld 👋🏽"], "id": "ü"])
            }
        }
    }
}
