/// The router's bound resources, indexed by account: a full JID is found in two hash lookups,
/// an account's resources without looking at any other account's (a thousand connected
/// clients made every message to a bare JID, and every bind, scan all of them).
struct XMPPSessionTable {
    private var accounts: [JID: [JID: XMPPRouter.Session]] = [:]

    subscript(full: JID) -> XMPPRouter.Session? {
        get { accounts[full.bare]?[full] }
        set {
            let account = full.bare
            accounts[account, default: [:]][full] = newValue
            if accounts[account]?.isEmpty == true { accounts[account] = nil }
        }
    }

    /// The bound resources of `account` (its bare JID, or any full JID of it).
    func sessions(of account: JID) -> [XMPPRouter.Session] { accounts[account.bare].map { Array($0.values) } ?? [] }

    /// How many resources `account` has bound.
    func count(of account: JID) -> Int { accounts[account.bare]?.count ?? 0 }

    /// The full JIDs `account` has bound.
    func resources(of account: JID) -> [JID] { accounts[account.bare].map { Array($0.keys) } ?? [] }
}
