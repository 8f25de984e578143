import Synchronization

/// One contact on a user's roster (RFC 6121 §2.1.2).
public struct XMPPRosterItem: Sendable, Hashable {
    /// Who receives whose presence (RFC 6121 §3): `to` means the user sees the contact's,
    /// `from` that the contact sees the user's.
    public enum Subscription: String, Sendable, Hashable {
        case none, to, from, both
    }

    public var contact: JID
    public var subscription: Subscription
    /// The user asked to see the contact's presence and the contact has not answered (`ask='subscribe'`).
    public var pendingOut: Bool
    /// The contact asked to see the user's presence and the user has not answered.
    public var pendingIn: Bool

    public init(contact: JID, subscription: Subscription = .none, pendingOut: Bool = false, pendingIn: Bool = false) {
        self.contact = contact
        self.subscription = subscription
        self.pendingOut = pendingOut
        self.pendingIn = pendingIn
    }

    /// Whether the user receives the contact's presence.
    public var seesContact: Bool { subscription == .to || subscription == .both }
    /// Whether the contact receives the user's presence.
    public var contactSees: Bool { subscription == .from || subscription == .both }
}

/// Where rosters are kept, by the owner's bare JID. Back it with a database by conforming a type of your own.
public protocol XMPPRosterStore: Sendable {
    func items(of owner: JID) async -> [XMPPRosterItem]
    func item(of owner: JID, contact: JID) async -> XMPPRosterItem?
    func save(_ item: XMPPRosterItem, of owner: JID) async
}

/// Rosters kept in memory.
public final class InMemoryRosterStore: XMPPRosterStore {
    private let rosters = Mutex<[JID: [JID: XMPPRosterItem]]>([:])

    public init() {}

    public func items(of owner: JID) async -> [XMPPRosterItem] {
        rosters.withLock { Array(($0[owner.bare] ?? [:]).values).sorted { $0.contact.description < $1.contact.description } }
    }

    public func item(of owner: JID, contact: JID) async -> XMPPRosterItem? { rosters.withLock { $0[owner.bare]?[contact.bare] } }

    public func save(_ item: XMPPRosterItem, of owner: JID) async {
        rosters.withLock { $0[owner.bare, default: [:]][item.contact.bare] = item }
    }
}
