import SwitchboardCore

/// The client side of one SCRAM exchange (RFC 5802 §5), without channel binding (`n,,`).
struct SCRAMClient {
    enum Failure: Error, Equatable {
        case malformed(String)
        /// The server's signature is wrong: it does not know the password.
        case serverNotAuthenticated
    }

    let mechanism: SCRAMMechanism
    private let username: String
    private let password: String
    private let clientNonce: String
    private var clientFirstBare: String { "n=\(Self.escape(username)),r=\(clientNonce)" }
    private var expectedServerSignature: [UInt8]?

    init(mechanism: SCRAMMechanism, username: String, password: String, nonce: String? = nil) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
        var random = SystemRandomNumberGenerator()
        self.clientNonce = nonce ?? Base64.encode((0..<18).map { _ in UInt8.random(in: .min ... .max, using: &random) })
    }

    /// The most PBKDF2 iterations a server may ask for. Each costs two HMACs on our side, so a
    /// hostile server naming billions would hold the client's CPU; real servers ask 4,096 to 10,000.
    static let maxIterations = 100_000

    /// `n,,n=user,r=nonce`.
    var clientFirst: String { "n,,\(clientFirstBare)" }

    /// Answers the server-first message with the client-final message.
    mutating func receiveServerFirst(_ message: String) throws(Failure) -> String {
        let attributes = SCRAMServer.attributes(message)
        guard let nonce = attributes["r"], nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count,
            let salt = attributes["s"].flatMap(Base64.decode), let iterations = attributes["i"].flatMap({ Int($0) }),
            (1...Self.maxIterations).contains(iterations)
        else { throw .malformed("server-first needs r=, s= and i=") }
        let salted = mechanism.saltedPassword(password, salt: salt, iterations: iterations)
        let clientKey = mechanism.hmac(key: salted, Array("Client Key".utf8))
        let withoutProof = "c=\(Base64.encode(Array("n,,".utf8))),r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(message),\(withoutProof)".utf8)
        let signature = mechanism.hmac(key: mechanism.hash(clientKey), authMessage)
        expectedServerSignature = mechanism.hmac(key: mechanism.hmac(key: salted, Array("Server Key".utf8)), authMessage)
        return "\(withoutProof),p=\(Base64.encode(zip(clientKey, signature).map { $0 ^ $1 }))"
    }

    /// Checks the server-final message (`v=...`).
    func receiveServerFinal(_ message: String) throws(Failure) {
        guard let expected = expectedServerSignature, let verifier = SCRAMServer.attributes(message)["v"].flatMap(Base64.decode),
            SCRAMServer.constantTimeEqual(verifier, expected)
        else { throw .serverNotAuthenticated }
    }

    static func escape(_ name: String) -> String {
        var result = ""
        for character in name {
            switch character {
            case ",": result += "=2C"
            case "=": result += "=3D"
            default: result.append(character)
            }
        }
        return result
    }
}
