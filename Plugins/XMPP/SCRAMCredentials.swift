import SwitchboardCore

/// What a server keeps of a password for SCRAM (RFC 5802 §3): the salt, the iteration count,
/// `StoredKey` and `ServerKey`. The password itself is never kept, and these do not give it
/// back; `StoredKey` alone does not let a thief log in (it verifies a proof, it does not make one).
public struct SCRAMCredentials: Sendable, Hashable {
    public var mechanism: SCRAMMechanism
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    /// Derives the credentials of `password`.
    ///
    /// - Parameters:
    ///   - password: the account's password; only the derived keys are kept.
    ///   - mechanism: SCRAM-SHA-1 or SCRAM-SHA-256, which fixes the hash.
    ///   - iterations: 4096 by default, the floor RFC 7677 §4 recommends for SCRAM-SHA-256 and
    ///     what RFC 5802's example uses.
    ///   - salt: 16 random bytes by default.
    public init(password: String, mechanism: SCRAMMechanism, iterations: Int = 4096, salt: [UInt8]? = nil) {
        var random = SystemRandomNumberGenerator()
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let salted = mechanism.saltedPassword(password, salt: salt, iterations: iterations)
        self.init(
            mechanism: mechanism, salt: salt, iterations: iterations,
            storedKey: mechanism.hash(mechanism.hmac(key: salted, Array("Client Key".utf8))),
            serverKey: mechanism.hmac(key: salted, Array("Server Key".utf8)))
    }

    public init(mechanism: SCRAMMechanism, salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.mechanism = mechanism
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }
}
