import Crypto

/// The SCRAM mechanisms (RFC 5802, RFC 7677) this module speaks, and the hash behind each.
public enum SCRAMMechanism: String, Sendable, Hashable, CaseIterable {
    case sha1 = "SCRAM-SHA-1"
    case sha256 = "SCRAM-SHA-256"

    func hash(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(Insecure.SHA1.hash(data: bytes))
        case .sha256: Array(SHA256.hash(data: bytes))
        }
    }

    func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        }
    }

    /// `Hi(password, salt, i)` of RFC 5802 §2.2: PBKDF2 with this HMAC, one block.
    func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = Array(password.utf8)
        var u = hmac(key: key, salt + [0, 0, 0, 1])
        var result = u
        for _ in 1..<max(iterations, 1) {
            u = hmac(key: key, u)
            for index in result.indices { result[index] ^= u[index] }
        }
        return result
    }
}
