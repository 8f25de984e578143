import Synchronization

/// Where the server looks accounts up: the SCRAM credentials of a username (never a password).
/// Back it with a database by conforming a type of your own.
public protocol XMPPAccountStore: Sendable {
    /// The stored credentials of `username` for `mechanism`, or `nil` when there is no such account.
    func credentials(of username: String, for mechanism: SCRAMMechanism) async -> SCRAMCredentials?
}

/// Accounts kept in memory: each password is turned into SCRAM-SHA-1 and SCRAM-SHA-256
/// credentials when added, and dropped.
public final class InMemoryAccountStore: XMPPAccountStore {
    private let accounts = Mutex<[String: [SCRAMMechanism: SCRAMCredentials]]>([:])

    public init() {}

    /// Adds or replaces the account `username`.
    public func add(_ username: String, password: String, iterations: Int = 4096) {
        let credentials = Dictionary(
            uniqueKeysWithValues: SCRAMMechanism.allCases.map { ($0, SCRAMCredentials(password: password, mechanism: $0, iterations: iterations)) })
        accounts.withLock { $0[username] = credentials }
    }

    public func credentials(of username: String, for mechanism: SCRAMMechanism) async -> SCRAMCredentials? {
        accounts.withLock { $0[username]?[mechanism] }
    }
}
