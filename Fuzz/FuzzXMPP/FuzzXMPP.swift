import FuzzDriver

@testable import SwitchboardXML
@testable import XMPP

/// XMPP's stream machine over a sequence of client messages: each NUL-separated piece of the
/// input is one WebSocket message, parsed with the server's XML limits and fed to
/// `XMPPServerStream` (PLAIN offered, so a seed's login reaches the established state), with
/// the account lookups and binds answered as the driver would. Checked: nothing comes after
/// the stream closes, a stream error is always sent and followed by `<close/>`, and nothing is
/// routed before a resource is bound or with any `from` but the bound JID.
@_cdecl("FuzzXMPP_main")
public func fuzzXMPPMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzXMPP)
}

private let limits = XMPPConfiguration().xmlLimits
/// One iteration: PBKDF2 is not what is fuzzed.
private let stored: [SCRAMMechanism: SCRAMCredentials] = Dictionary(
    uniqueKeysWithValues: SCRAMMechanism.allCases.map { ($0, SCRAMCredentials(password: "secret", mechanism: $0, iterations: 1, salt: [1, 2, 3])) })

func fuzzXMPP(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    let input = UnsafeBufferPointer(start: start, count: count)
    var stream = XMPPServerStream(domain: "localhost", offersPlain: true, streamID: "fuzz", maxAuthenticationAttempts: 3)
    var bound: JID?
    var closed = false
    for piece in input.split(separator: 0, maxSplits: 64, omittingEmptySubsequences: false) {
        // A parse error gets a stream error from the driver, not from the machine.
        guard let element = try? XMLParser.parse(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: piece)), limits: limits) else { continue }
        var pending = stream.receive(element)
        while !pending.isEmpty {
            let actions = pending
            pending = []
            precondition(!closed || actions.isEmpty, "actions after the stream closed: \(actions)")
            for (index, action) in actions.enumerated() {
                switch action {
                case .send: break
                case .lookUpCredentials(let username, let mechanism):
                    pending += stream.credentials(username == "alice" ? stored[mechanism] : nil)
                case .authenticated: break
                case .bind(let requested, let iqID):
                    let jid = JID(localpart: "alice", domain: "localhost", resource: requested ?? "generated")
                    bound = jid
                    pending += stream.bound(jid, iqID: iqID)
                case .route(let stanza):
                    precondition(bound != nil && stream.isEstablished, "routed before a resource was bound")
                    precondition(
                        stanza.attribute(XName("from")) == bound?.description,
                        "routed with from \(String(describing: stanza.attribute(XName("from"))))")
                case .close(let error):
                    closed = true
                    if let error {
                        let sent = actions[..<index].compactMap { if case .send(let element) = $0 { element } else { nil } }
                        precondition(sent.suffix(2).map(\.name.local) == ["error", "close"], "\(error) without <stream:error/> and <close/>")
                    }
                }
            }
        }
    }
    return 0
}
