// A Vapor app serving plain HTTP routes and a Switchboard JSON-RPC route on one port:
//
//   swift run vapor-example [--port 8080]
//
//   curl http://127.0.0.1:8080/hello                       Vapor's router
//   ws://127.0.0.1:8080/rpc  (subprotocol jsonrpc or none)  Switchboard's JSON-RPC: subtract, echo, whoami
//   ws://127.0.0.1:8080/echo                                Switchboard's echo (for `switchboard bench`)
//
// /rpc is behind a Vapor authenticator (any bearer token is a name here); the accept hook
// refuses the upgrade with 401 when the authenticator found nobody, and `whoami` reads the
// caller from the Vapor request's `auth`. Browsers cannot set headers on a WebSocket: they
// give the token as `?token=` instead. /test is a page whose script calls /rpc from the browser.
import JSONRPC
import Switchboard
import SwitchboardCore
import SwitchboardVapor
import Vapor

/// The caller Vapor's authenticator logs in.
struct Caller: Authenticatable {
    var name: String
}

/// A bearer token in the `Authorization` header or, for browsers, in `?token=`.
struct TokenAuthenticator: AsyncRequestAuthenticator {
    func authenticate(request: Request) async throws {
        let token = request.headers.bearerAuthorization?.token ?? (try? request.query.get(String.self, at: "token"))
        if let token, !token.isEmpty { request.auth.login(Caller(name: token)) }
    }
}

struct Subtract: Decodable {
    var minuend: Int
    var subtrahend: Int
}

var methods = JSONRPCMethods()
methods.register("subtract", parameters: ["minuend", "subtrahend"]) { (p: Subtract, _) in p.minuend - p.subtrahend }
methods.register("echo") { (value: JSONValue, _) in value }
methods.register("whoami") { (_: JSONValue?, peer) in peer.context.values[VaporRequest.self]?.auth.get(Caller.self)?.name ?? "anonymous" }

var routes = WebSocketRoutes()
routes.add("/rpc", .jsonRPC(JSONRPCHandler(methods: methods))) { upgrade in
    guard upgrade.values[VaporRequest.self]?.auth.has(Caller.self) == true else {
        return .reject(HandshakeRejection(status: 401, reason: "a bearer token, please", headers: ["WWW-Authenticate": "Bearer realm=\"rpc\""]))
    }
    return .accept()
}
// Echo, for `switchboard bench` (scripts/bench-ab.sh compares it with `switchboard serve`).
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

var port = 8080
if let index = CommandLine.arguments.firstIndex(of: "--port"), index + 1 < CommandLine.arguments.count,
    let value = Int(CommandLine.arguments[index + 1])
{
    port = value
}
var environment = try Environment.detect(arguments: [CommandLine.arguments[0]])
try LoggingSystem.bootstrap(from: &environment)
let app = try await Application.make(environment)
app.http.server.configuration.hostname = "127.0.0.1"
app.http.server.configuration.port = port
app.get("hello") { _ in "hello from Vapor\n" }
app.get("health") { _ in "ok\n" }
app.get("test") { _ in
    Response(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: testPage))
}
app.grouped(TokenAuthenticator()).switchboard(HostedWebSocketServer(routes: routes))
do {
    try await app.execute()  // Vapor's `serve`: until SIGTERM or SIGINT, then a graceful shutdown
} catch {
    app.logger.report(error: error)
}
try await app.asyncShutdown()
