import SwitchboardCore

/// The server side of one SCRAM exchange (RFC 5802 §5), as a state machine that does no I/O:
/// it takes the client's messages and returns what to answer.
///
/// Channel binding is not offered: a client that asks for it (`p=`) is refused; one that says
/// it could but the server does not offer it (`y`) or does not support it (`n`) is served.
/// Usernames are compared as sent, after `=2C`/`=3D` unescaping (SASLprep is not applied).
struct SCRAMServer {
    enum Failure: Error, Equatable {
        /// The message is not what SCRAM allows at this step (SASL `malformed-request`).
        case malformed(String)
        /// Unknown user or wrong password (SASL `not-authorized`); the two are not told apart.
        case notAuthorized
    }

    private enum State {
        case awaitingClientFirst
        case awaitingClientFinal(credentials: SCRAMCredentials?, clientFirstBare: String, serverFirst: String, nonce: String, gs2Header: String)
        case done
    }

    let mechanism: SCRAMMechanism
    private var state = State.awaitingClientFirst
    private(set) var username: String?

    init(mechanism: SCRAMMechanism) { self.mechanism = mechanism }

    /// The client-first message; returns the server-first message. `credentials` looks the user
    /// up; for an unknown user the exchange goes on with made-up values and fails at the proof,
    /// so that a client cannot tell unknown users from wrong passwords.
    mutating func receiveClientFirst(
        _ message: String, serverNonce: String, credentials: (String) -> SCRAMCredentials?
    ) throws(Failure) -> String {
        guard case .awaitingClientFirst = state else { throw .malformed("client-first out of order") }
        let parts = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("no GS2 header") }
        switch parts[0] {
        case "n", "y": break
        default: throw .malformed("channel binding is not supported")
        }
        guard parts[1].isEmpty else { throw .malformed("authorization identities are not supported") }
        let gs2Header = "\(parts[0]),,"
        let clientFirstBare = String(parts[2])
        let attributes = Self.attributes(clientFirstBare)
        guard let escapedName = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty, attributes["m"] == nil,
            let name = Self.unescape(escapedName), !name.isEmpty
        else { throw .malformed("client-first needs n= and r=") }
        username = name
        let found = credentials(name)
        let nonce = clientNonce + serverNonce
        let salt = found?.salt ?? mechanism.hash(Array("unknown \(name)".utf8)).prefix(16).map { $0 }
        let iterations = found?.iterations ?? 4096
        let serverFirst = "r=\(nonce),s=\(Base64.encode(salt)),i=\(iterations)"
        state = .awaitingClientFinal(
            credentials: found, clientFirstBare: clientFirstBare, serverFirst: serverFirst, nonce: nonce, gs2Header: gs2Header)
        return serverFirst
    }

    /// The client-final message; returns the server-final message (`v=...`) when the proof is right.
    mutating func receiveClientFinal(_ message: String) throws(Failure) -> String {
        guard case .awaitingClientFinal(let credentials, let clientFirstBare, let serverFirst, let nonce, let gs2Header) = state else {
            throw .malformed("client-final out of order")
        }
        state = .done
        // The proof is the last attribute (RFC 5802 §7), and base64 has no commas.
        guard let comma = message.lastIndex(of: ","), message[comma...].hasPrefix(",p=") else {
            throw .malformed("client-final without a proof")
        }
        let withoutProof = String(message[..<comma])
        let attributes = Self.attributes(withoutProof)
        guard attributes["c"] == Base64.encode(Array(gs2Header.utf8)) else { throw .malformed("channel binding data does not match") }
        guard attributes["r"] == nonce else { throw .malformed("the nonce does not match") }
        guard let proof = Base64.decode(String(message[message.index(comma, offsetBy: 3)...])), let credentials,
            proof.count == credentials.storedKey.count
        else { throw .notAuthorized }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let signature = mechanism.hmac(key: credentials.storedKey, authMessage)
        let clientKey = zip(proof, signature).map { $0 ^ $1 }
        guard Self.constantTimeEqual(mechanism.hash(clientKey), credentials.storedKey) else { throw .notAuthorized }
        return "v=" + Base64.encode(mechanism.hmac(key: credentials.serverKey, authMessage))
    }

    /// `k=v` attributes of a SCRAM message, by their one-letter name.
    static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard part.count >= 2, part.dropFirst().first == "=" else { continue }
            result[String(part.prefix(1))] = String(part.dropFirst(2))
        }
        return result
    }

    /// RFC 5802 §5.1: `=2C` is `,` and `=3D` is `=`; any other `=` is an error.
    static func unescape(_ name: String) -> String? {
        var result = ""
        var rest = Substring(name)
        while let equals = rest.firstIndex(of: "=") {
            result += rest[..<equals]
            let code = rest[equals...].prefix(3)
            switch code {
            case "=2C": result += ","
            case "=3D": result += "="
            default: return nil
            }
            rest = rest[rest.index(equals, offsetBy: 3)...]
        }
        return result + rest
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
