import JSONRPC
import SwitchboardCore
import SwitchboardExamples
import Testing

// Calls a hostile peer can make to a server, each of which once took the whole
// server down or grew it without bound (issue 17, defects 1 and 7).

@Suite("JSON-RPC: what a hostile peer's calls can do to the server")
struct HostileCallsTests {
    @Test(
        "The demo's sum and subtract answer overflow with -32602 instead of trapping",
        arguments: [
            #"{"jsonrpc":"2.0","method":"sum","params":[9223372036854775807,1],"id":1}"#,
            #"{"jsonrpc":"2.0","method":"sum","params":[-9223372036854775808,-1],"id":1}"#,
            #"{"jsonrpc":"2.0","method":"subtract","params":[-9223372036854775808,1],"id":1}"#,
            #"{"jsonrpc":"2.0","method":"subtract","params":{"minuend":9223372036854775807,"subtrahend":-1},"id":1}"#,
        ])
    func overflow(request: String) async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(request)
                #expect(answer["error"]?["code"] == -32602, "\(answer)")
                // The server is still there, and the same connection still works.
                #expect(
                    try await wire.exchange(#"{"jsonrpc":"2.0","method":"sum","params":[9223372036854775806,1],"id":2}"#)["result"]
                        == .integer(.max))
            }
        }
    }

    @Test("A notification that overflows is dropped silently and the server lives on")
    func overflowNotification() async throws {
        try await withRPCServer { port in
            try await withWire(port: port) { wire in
                try await wire.send(#"{"jsonrpc":"2.0","method":"notify_sum","params":[9223372036854775807,1]}"#)
                #expect(try await wire.exchange(#"{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":3}"#)["result"] == 19)
            }
        }
    }

    @Test("Background tasks a peer starts are bounded per connection: subscribe past the bound is -32000")
    func backgroundTaskBound() async throws {
        let limit = 5
        let registry = SubprotocolRegistry.jsonRPC(JSONRPCDemo.handler(configuration: JSONRPCConfiguration(maxBackgroundTasks: limit)))
        try await withRPCServer(registry) { port in
            try await withWire(port: port) { wire in
                func subscribe(_ id: Int) -> String {
                    #"{"jsonrpc":"2.0","method":"subscribe","params":{"interval_ms":60000,"count":1},"id":\#(id)}"#
                }
                for id in 1...limit {
                    let answer = try await wire.exchange(subscribe(id))
                    #expect(answer["result"] == .string("sub-\(id)"), "\(answer)")
                }
                let refused = try await wire.exchange(subscribe(99))
                #expect(refused["error"]?["code"] == -32000, "\(refused)")
                // Stopping one makes room for one more.
                #expect(try await wire.exchange(#"{"jsonrpc":"2.0","method":"unsubscribe","params":["sub-1"],"id":100}"#)["result"] == true)
                var again = try await wire.exchange(subscribe(101))
                for _ in 0..<50 where again["error"] != nil {
                    // The cancelled task leaves the table as it ends, a moment after unsubscribe answers.
                    try await Task.sleep(for: .milliseconds(20))
                    again = try await wire.exchange(subscribe(101))
                }
                #expect(again["result"] != nil, "\(again)")
            }
            // Another connection has a bound of its own.
            try await withWire(port: port) { wire in
                let answer = try await wire.exchange(#"{"jsonrpc":"2.0","method":"subscribe","params":[60000,1],"id":1}"#)
                #expect(answer["result"] != nil, "\(answer)")
            }
        }
    }
}
