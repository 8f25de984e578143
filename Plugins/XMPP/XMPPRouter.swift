import Synchronization

/// Routes stanzas between the connected clients of one server (RFC 6120 §8.5, RFC 6121 §8),
/// answers the iqs the server itself handles, and keeps presence and subscriptions (RFC 6121
/// §3-4) with a roster store.
///
/// A connection hands the router each stanza of its established stream; the router hands
/// stanzas to connections through their ``Session/deliver``. Nothing is stored for offline
/// users: a message or iq to an account with no connected resource is bounced with
/// `service-unavailable` (RFC 6121 §8.5.2.2.1 allows it).
final class XMPPRouter: Sendable {
    struct Session: Sendable {
        let jid: JID
        /// Which connection this is: a connection that lost its resource to a later login must
        /// not unbind the later one.
        var id = 0
        /// Queues a stanza for this connection.
        let deliver: @Sendable (XElement) -> Void
        /// Ends this connection with a stream error (a later login took its resource).
        let terminate: @Sendable (XMPPStreamError) -> Void
    }

    private struct State {
        var sessions = XMPPSessionTable()
        /// The last available presence of each full JID that sent one.
        var presence: [JID: XElement] = [:]
        /// Who each full JID sent directed presence to: told when it becomes unavailable (RFC 6121 §4.6.2).
        var directed: [JID: Set<JID>] = [:]
        var nextResource = 0
    }

    let domain: String
    let roster: any XMPPRosterStore
    let maxSessionsPerAccount: Int
    private let state = Mutex(State())

    init(domain: String, roster: any XMPPRosterStore, maxSessionsPerAccount: Int) {
        self.domain = domain
        self.roster = roster
        self.maxSessionsPerAccount = maxSessionsPerAccount
    }

    // MARK: Sessions

    /// Binds a resource for `username` (the requested one, or one the server makes). A session
    /// already on that resource is ended with `conflict` (RFC 6120 §7.7.2.2, the "override" policy).
    func bind(username: String, requested: String?, make: (JID) -> Session) -> Result<JID, XMPPStreamError> {
        let (outcome, displaced): (Result<JID, XMPPStreamError>, Session?) = state.withLock { state in
            let account = JID(localpart: username, domain: domain)
            let resource: String
            if let requested {
                resource = requested
            } else {
                state.nextResource += 1
                resource = "switchboard-\(state.nextResource)"
            }
            let jid = account.with(resource: resource)
            let displaced = state.sessions[jid]
            let others = state.sessions.count(of: account) - (displaced == nil ? 0 : 1)
            guard others < maxSessionsPerAccount else {
                return (.failure(XMPPStreamError(.policyViolation, "at most \(maxSessionsPerAccount) connections per account")), nil)
            }
            state.sessions[jid] = make(jid)
            state.presence[jid] = nil
            return (.success(jid), displaced)
        }
        displaced?.terminate(XMPPStreamError(.conflict, "another login took this resource"))
        return outcome
    }

    /// The connection of `jid` ended: it is gone, and its contacts see it unavailable.
    func unbind(_ jid: JID, session isCurrent: @Sendable (Session) -> Bool) async {
        let wasAvailable: Bool = state.withLock { state in
            guard let current = state.sessions[jid], isCurrent(current) else { return false }
            state.sessions[jid] = nil
            let directed = !(state.directed[jid]?.isEmpty ?? true)
            return state.presence.removeValue(forKey: jid) != nil || directed
        }
        if wasAvailable {
            let unavailable = XElement(
                XName("presence", namespace: XMPPNamespace.client),
                attributes: [XAttribute(XName("type"), "unavailable"), XAttribute(XName("from"), jid.description)])
            await broadcast(unavailable, from: jid)
        }
    }

    private func messageTargets(of account: JID) -> [Session] {
        state.withLock { state in
            let bound = state.sessions.sessions(of: account)
            let available = bound.filter { session in
                guard let presence = state.presence[session.jid] else { return false }
                let priority =
                    presence.element(XName("priority", namespace: XMPPNamespace.client)).flatMap { Int($0.text.trimmingXMLWhitespace()) } ?? 0
                return priority >= 0
            }
            let anyAvailable = bound.contains { state.presence[$0.jid] != nil }
            return anyAvailable ? available : bound
        }
    }

    func sessions(of account: JID) -> [Session] { state.withLock { $0.sessions.sessions(of: account) } }
    private func session(_ jid: JID) -> Session? { state.withLock { $0.sessions[jid] } }

    // MARK: Routing

    /// Routes a stanza the client `from` sent (its `from` already stamped).
    func route(_ stanza: XElement, from: JID) async {
        let to = stanza.attribute(XName("to")).flatMap(JID.init)
        let type = stanza.attribute(XName("type"))
        if let to, to.domain != domain {
            bounce(stanza, from: from, condition: "remote-server-not-found")
            return
        }
        switch stanza.name.local {
        case "message":
            guard let to else { return }
            if let full = to.resource.flatMap({ _ in session(to) }) {
                full.deliver(stanza)
                return
            }
            // A bare JID (or an offline full JID, RFC 6121 §8.5.3.2.1): the available resources of
            // non-negative priority (§8.5.2.1.1); when none has sent presence yet, every bound one.
            let targets = to.localpart == nil ? [] : messageTargets(of: to)
            guard !targets.isEmpty else {
                if !["error", "groupchat", "headline"].contains(type ?? "normal") { bounce(stanza, from: from, condition: "service-unavailable") }
                return
            }
            for target in targets { target.deliver(stanza) }
        case "iq":
            guard type == "get" || type == "set" || type == "result" || type == "error" else { return }
            if to == nil || to == JID(domain: domain) || to == from.bare {
                await serverIQ(stanza, from: from)
            } else if let to, to.resource != nil, let target = session(to) {
                target.deliver(stanza)
            } else if type == "get" || type == "set" {
                bounce(stanza, from: from, condition: "service-unavailable")
            }
        case "presence":
            switch type {
            case nil, "unavailable":
                if let to {
                    for target in to.resource == nil ? sessions(of: to) : session(to).map({ [$0] }) ?? [] { target.deliver(stanza) }
                    state.withLock { state in
                        if type == nil { state.directed[from, default: []].insert(to) } else { state.directed[from]?.remove(to) }
                    }
                } else {
                    await broadcast(stanza, from: from)
                }
            case "subscribe", "subscribed", "unsubscribe", "unsubscribed":
                guard let to, to.localpart != nil else { return }
                await subscription(type!, from: from, to: to.bare, stanza: stanza)
            default:
                return
            }
        default:
            return
        }
    }

    // MARK: Presence (RFC 6121 §4)

    /// Broadcast presence: to the user's other resources and to every contact that sees the
    /// user. The first available presence of a resource also fetches the contacts' presence.
    private func broadcast(_ stanza: XElement, from: JID) async {
        let available = stanza.attribute(XName("type")) == nil
        let initial: Bool = state.withLock { state in
            let first = state.presence[from] == nil
            if available { state.presence[from] = stanza } else { state.presence[from] = nil }
            return first && available
        }
        let items = await roster.items(of: from)
        if !available {
            // Those who had directed presence from this resource learn that it is gone too.
            let directed = state.withLock { $0.directed.removeValue(forKey: from) ?? [] }
            for target in directed where !items.contains(where: { $0.contactSees && $0.contact == target.bare }) {
                for session in target.resource == nil ? sessions(of: target) : session(target).map({ [$0] }) ?? [] {
                    session.deliver(addressed(stanza, to: session.jid))
                }
            }
        }
        for own in sessions(of: from) where own.jid != from { own.deliver(stanza) }
        for item in items where item.contactSees {
            for target in sessions(of: item.contact) { target.deliver(stanza) }
        }
        guard initial, let me = session(from) else { return }
        for item in items where item.seesContact {
            let presences = state.withLock { state in state.sessions.resources(of: item.contact).compactMap { state.presence[$0] } }
            for presence in presences { me.deliver(addressed(presence, to: from)) }
        }
    }

    /// Subscription requests and answers (RFC 6121 §3), both rosters updated and pushed.
    private func subscription(_ type: String, from: JID, to contact: JID, stanza: XElement) async {
        let user = from.bare
        var mine = await roster.item(of: user, contact: contact) ?? XMPPRosterItem(contact: contact)
        var theirs = await roster.item(of: contact, contact: user) ?? XMPPRosterItem(contact: user)
        switch type {
        case "subscribe":
            mine.pendingOut = !mine.seesContact
            theirs.pendingIn = !theirs.contactSees
        case "subscribed":
            guard theirs.pendingOut || mine.pendingIn else { return }  // approving what was not asked: ignored (§3.1.5)
            mine.subscription = Self.adding(.from, to: mine.subscription)
            mine.pendingIn = false
            theirs.subscription = Self.adding(.to, to: theirs.subscription)
            theirs.pendingOut = false
        case "unsubscribe":
            mine.subscription = Self.removing(.to, from: mine.subscription)
            mine.pendingOut = false
            theirs.subscription = Self.removing(.from, from: theirs.subscription)
        default:  // unsubscribed
            mine.subscription = Self.removing(.from, from: mine.subscription)
            mine.pendingIn = false
            theirs.subscription = Self.removing(.to, from: theirs.subscription)
            theirs.pendingOut = false
        }
        await roster.save(mine, of: user)
        await roster.save(theirs, of: contact)
        push(mine, to: user)
        push(theirs, to: contact)
        var forwarded = stanza
        forwarded.attributes = [
            XAttribute(XName("type"), type), XAttribute(XName("from"), user.description), XAttribute(XName("to"), contact.description),
        ]
        for target in sessions(of: contact) { target.deliver(forwarded) }
        if type == "subscribed" {
            // The new subscriber gets the user's current presence (RFC 6121 §3.1.5).
            let presences = state.withLock { state in state.sessions.resources(of: user).compactMap { state.presence[$0] } }
            for target in sessions(of: contact) { for presence in presences { target.deliver(addressed(presence, to: target.jid)) } }
        }
    }

    private static func adding(_ part: XMPPRosterItem.Subscription, to current: XMPPRosterItem.Subscription) -> XMPPRosterItem.Subscription {
        switch (current, part) {
        case (.none, _): part
        case (.to, .from), (.from, .to), (.both, _): .both
        default: current
        }
    }

    private static func removing(_ part: XMPPRosterItem.Subscription, from current: XMPPRosterItem.Subscription) -> XMPPRosterItem.Subscription {
        switch (current, part) {
        case (.both, .to): .from
        case (.both, .from): .to
        case (let same, let removed) where same == removed: .none
        default: current
        }
    }

    private func addressed(_ stanza: XElement, to: JID) -> XElement {
        var copy = stanza
        copy.attributes.removeAll { $0.name == XName("to") }
        copy.attributes.append(XAttribute(XName("to"), to.description))
        return copy
    }

    // MARK: The server's own iqs

    private func serverIQ(_ iq: XElement, from: JID) async {
        guard let me = session(from), let type = iq.attribute(XName("type")), type == "get" || type == "set" else { return }
        let id = iq.attribute(XName("id")) ?? ""
        let payload = iq.elements.first
        switch (type, payload?.name) {
        case ("get", XName("ping", namespace: "urn:xmpp:ping")?):
            me.deliver(reply(to: iq, from: from, children: []))
        case ("get", XName("query", namespace: "http://jabber.org/protocol/disco#info")?):
            var query = XElement(XName("query", namespace: "http://jabber.org/protocol/disco#info"))
            query.append(
                XElement(
                    XName("identity", namespace: "http://jabber.org/protocol/disco#info"),
                    attributes: [XAttribute(XName("category"), "server"), XAttribute(XName("type"), "im"), XAttribute(XName("name"), "Switchboard")]))
            for feature in ["http://jabber.org/protocol/disco#info", "urn:xmpp:ping", "jabber:iq:roster"] {
                query.append(
                    XElement(XName("feature", namespace: "http://jabber.org/protocol/disco#info"), attributes: [XAttribute(XName("var"), feature)]))
            }
            me.deliver(reply(to: iq, from: from, children: [query]))
        case ("get", XName("query", namespace: "jabber:iq:roster")?):
            var query = XElement(XName("query", namespace: "jabber:iq:roster"))
            for item in await roster.items(of: from) { query.append(Self.element(item)) }
            me.deliver(reply(to: iq, from: from, children: [query]))
        case ("set", XName("query", namespace: "jabber:iq:roster")?):
            guard let itemElement = payload?.element(XName("item", namespace: "jabber:iq:roster")),
                let contact = itemElement.attribute(XName("jid")).flatMap(JID.init)?.bare
            else {
                bounce(iq, from: from, condition: "bad-request", type: "modify")
                return
            }
            var item = await roster.item(of: from, contact: contact) ?? XMPPRosterItem(contact: contact)
            if itemElement.attribute(XName("subscription")) == "remove" { item = XMPPRosterItem(contact: contact) }
            await roster.save(item, of: from)
            push(item, to: from.bare)
            me.deliver(reply(to: iq, from: from, children: []))
        default:
            _ = id
            bounce(iq, from: from, condition: "service-unavailable")
        }
    }

    private func reply(to iq: XElement, from: JID, children: [XElement]) -> XElement {
        XElement(
            XName("iq", namespace: XMPPNamespace.client),
            attributes: [
                XAttribute(XName("type"), "result"), XAttribute(XName("id"), iq.attribute(XName("id")) ?? ""),
                XAttribute(XName("to"), from.description), XAttribute(XName("from"), iq.attribute(XName("to")) ?? from.bare.description),
            ], children: children.map(XNode.element))
    }

    /// A roster push (RFC 6121 §2.1.6) to every resource of `owner`.
    private func push(_ item: XMPPRosterItem, to owner: JID) {
        let query = XElement(XName("query", namespace: "jabber:iq:roster"), children: [.element(Self.element(item))])
        for target in sessions(of: owner) {
            target.deliver(
                XElement(
                    XName("iq", namespace: XMPPNamespace.client),
                    attributes: [XAttribute(XName("type"), "set"), XAttribute(XName("id"), "push"), XAttribute(XName("to"), target.jid.description)],
                    children: [.element(query)]))
        }
    }

    static func element(_ item: XMPPRosterItem) -> XElement {
        var attributes = [XAttribute(XName("jid"), item.contact.description), XAttribute(XName("subscription"), item.subscription.rawValue)]
        if item.pendingOut { attributes.append(XAttribute(XName("ask"), "subscribe")) }
        return XElement(XName("item", namespace: "jabber:iq:roster"), attributes: attributes)
    }

    /// Sends `stanza` back to its sender as an error (RFC 6120 §8.3).
    private func bounce(_ stanza: XElement, from: JID, condition: String, type: String = "cancel") {
        guard stanza.attribute(XName("type")) != "error", let sender = session(from) else { return }
        var error = stanza
        error.attributes =
            [
                XAttribute(XName("type"), "error"), XAttribute(XName("to"), from.description),
            ] + (stanza.attribute(XName("to")).map { [XAttribute(XName("from"), $0)] } ?? [])
            + (stanza.attribute(XName("id")).map { [XAttribute(XName("id"), $0)] } ?? [])
        error.append(
            XElement(
                XName("error", namespace: XMPPNamespace.client), attributes: [XAttribute(XName("type"), type)],
                children: [.element(XElement(XName(condition, namespace: XMPPNamespace.stanzaErrors)))]))
        sender.deliver(error)
    }
}
