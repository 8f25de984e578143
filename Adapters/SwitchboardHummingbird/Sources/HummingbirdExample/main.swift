// A Hummingbird app serving plain HTTP routes and a Switchboard JSON-RPC route on one port:
//
//   swift run hummingbird-example [--port 8080]
//
//   curl http://127.0.0.1:8080/hello                       Hummingbird's router
//   ws://127.0.0.1:8080/rpc  (subprotocol jsonrpc or none)  Switchboard's JSON-RPC: subtract, echo, whoami
//   ws://127.0.0.1:8080/echo                                Switchboard's echo (for `switchboard bench`)
//
// /rpc checks a bearer token before the upgrade (any token is a name here; none is 401), and
// the handler reads the name back from its context. Browsers cannot set headers on a WebSocket:
// they give it as `?token=` instead. /test is a page whose script calls /rpc from the browser.
import Hummingbird
import JSONRPC
import NIOCore
import Switchboard
import SwitchboardCore
import SwitchboardHummingbird

/// The identity the accept hook hands the JSON-RPC methods.
enum Caller: WebSocketContextKey { typealias Value = String }

struct Subtract: Decodable {
    var minuend: Int
    var subtrahend: Int
}

var methods = JSONRPCMethods()
methods.register("subtract", parameters: ["minuend", "subtrahend"]) { (p: Subtract, _) in p.minuend - p.subtrahend }
methods.register("echo") { (value: JSONValue, _) in value }
methods.register("whoami") { (_: JSONValue?, peer) in peer.context.values[Caller.self] ?? "anonymous" }

var routes = WebSocketRoutes()
routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods))) { upgrade in
    let bearer = upgrade.request.headers.single("Authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
    guard let token = bearer ?? upgrade.request.queryItems.first(where: { $0.name == "token" })?.value, !token.isEmpty else {
        return .reject(HandshakeRejection(status: 401, reason: "a bearer token, please", headers: ["WWW-Authenticate": "Bearer realm=\"rpc\""]))
    }
    var values = WebSocketContextValues()
    values[Caller.self] = token
    return .accept(values)
}
// Echo, for `switchboard bench` (scripts/bench-ab.sh compares it with `switchboard serve` and Hummingbird's own).
routes.add(
    "/echo", handler: ClosureWebSocketHandler { inbound, outbound, _ in for try await message in inbound { try await outbound.send(message) } })

/// The page the browser test loads: JSON-RPC over /rpc from the browser's own WebSocket.
let testPage = """
    <!doctype html><title>pending</title>
    <script>
    const ws = new WebSocket(`ws://${location.host}/rpc?token=browser`, "jsonrpc");
    const answers = [];
    ws.onopen = () => {
      ws.send(JSON.stringify({jsonrpc: "2.0", method: "subtract", params: [42, 23], id: 1}));
      ws.send(JSON.stringify({jsonrpc: "2.0", method: "whoami", id: 2}));
    };
    ws.onmessage = (event) => {
      answers.push(JSON.parse(event.data));
      if (answers.length === 2) {
        answers.sort((a, b) => a.id - b.id);
        document.title = `done ${ws.protocol} ${answers[0].result} ${answers[1].result}`;
        ws.close();
      }
    };
    ws.onerror = () => { document.title = "error"; };
    </script>
    """

let router = Router()
router.get("/hello") { _, _ in "hello from Hummingbird\n" }
router.get("/health") { _, _ in "ok\n" }
router.get("/test") { _, _ in
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: testPage)))
}

var port = 8080
if let index = CommandLine.arguments.firstIndex(of: "--port"), index + 1 < CommandLine.arguments.count,
    let value = Int(CommandLine.arguments[index + 1])
{
    port = value
}
let app = Application(
    router: router,
    server: .http1(switchboard: HostedWebSocketServer(routes: routes)),
    configuration: .init(address: .hostname("127.0.0.1", port: port))
)
try await app.runService()
