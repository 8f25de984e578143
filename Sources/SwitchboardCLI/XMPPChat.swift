import ArgumentParser
import Logging
import Switchboard
import SwitchboardBench
import SwitchboardCore
import SwitchboardJSON
import Synchronization
import XMPP

/// `switchboard xmpp-chat`: logs in to an XMPP server over WebSocket with our client, does
/// what it is told, and prints what happens as JSON lines.
struct XMPPChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xmpp-chat",
        abstract: "Log in to an XMPP server over WebSocket (RFC 7395) and send or wait for messages; print JSON lines.",
        discussion: """
            Prints {"bound": JID} after login, {"ping": "ok"} per answered ping, and each stanza received: \
            {"message": {"from", "body"}} or {"presence": {"from", "type"}}.
            """
    )

    @Argument(help: "ws:// or wss:// URL of the XMPP endpoint.") var url: String
    @Option(help: "The account, user@domain[/resource].") var jid: String
    @Option(help: "Its password.") var password: String
    @Flag(help: "Send available presence after login.") var presence = false
    @Option(help: "Send directed presence to this JID.") var presenceTo: String?
    @Flag(help: "Ping the server.") var ping = false
    @Option(help: "Send --message to this JID.") var to: String?
    @Option(help: "The message body to send.") var message: String?
    @Option(help: "Wait for this many messages before closing.") var expectMessages = 0
    @Option(help: "Seconds to wait, for each step and for the messages.") var timeout = 20
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap(default: .warning)
        guard let account = JID(jid), account.localpart != nil else { throw ValidationError("--jid takes user@domain[/resource]") }
        let (presence, presenceTo, ping, expected) = (self.presence, self.presenceTo.flatMap(JID.init), self.ping, expectMessages)
        let outgoing: (JID, String)? = try to.map { to in
            guard let target = JID(to), let message else { throw ValidationError("--to takes a JID and needs --message") }
            return (target, message)
        }
        let deadline = Duration.seconds(timeout)
        let client = XMPPClient(jid: account, password: password, timeout: deadline) { session in
            printJSONLine(["bound": .string(session.jid.description)])
            if presence { try await session.sendPresence() }
            if let presenceTo { try await session.sendPresence(to: presenceTo) }
            if ping {
                try await session.ping()
                printJSONLine(["ping": "ok"])
            }
            if let (target, body) = outgoing { try await session.send(message: body, to: target) }
            guard expected > 0 else { return }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var messages = 0
                    for await stanza in session.incoming {
                        let from = JSONValue.string(stanza.attribute(XName("from")) ?? "")
                        switch stanza.name.local {
                        case "message":
                            printJSONLine([
                                "message": ["from": from, "body": .string(stanza.element(XName("body", namespace: "jabber:client"))?.text ?? "")]
                            ])
                            messages += 1
                            if messages >= expected { return }
                        case "presence":
                            printJSONLine(["presence": ["from": from, "type": .string(stanza.attribute(XName("type")) ?? "available")]])
                        default:
                            continue
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    throw XMPPClientError.timedOut
                }
                try await group.next()
                group.cancelAll()
            }
        }
        let failure = LockedError()
        do {
            _ = try await WebSocketConnector.connect(to: url, configuration: .init(subprotocols: [XMPPServer.token])) { inbound, outbound, context in
                do { try await client.handle(inbound, outbound, context: context) } catch { failure.set(error) }
            }
        } catch {
            failure.set(error)
        }
        if let error = failure.value {
            StandardStream.standardError.write("error: \(error)\n")
            throw ExitCode(1)
        }
    }
}

/// The first error, from whichever task met it.
private final class LockedError: Sendable {
    private let storage = Mutex<(any Error)?>(nil)
    func set(_ error: any Error) { storage.withLock { if $0 == nil { $0 = error } } }
    var value: (any Error)? { storage.withLock { $0 } }
}
