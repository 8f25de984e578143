import SwitchboardXML
import Synchronization
import Testing

@testable import XMPP

/// A connected client as the router sees it: what it was delivered, and whether it was ended.
private final class Inbox: Sendable {
    let stanzas = Mutex<[XElement]>([])
    let ended = Mutex<XMPPStreamError?>(nil)
    func take() -> [XElement] {
        stanzas.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}

private func stanza(_ name: String, _ attributes: [String: String], _ children: [XElement] = []) -> XElement {
    XElement(
        XName(name, namespace: "jabber:client"), attributes: attributes.sorted { $0.key < $1.key }.map { XAttribute(XName($0.key), $0.value) },
        children: children.map(XNode.element))
}

private func condition(_ element: XElement) -> String? {
    element.element(XName("error", namespace: "jabber:client"))?.elements.first?.name.local
}

@Suite struct XMPPRouterTests {
    let router = XMPPRouter(domain: "localhost", roster: InMemoryRosterStore(), maxSessionsPerAccount: 2)

    private func connect(_ user: String, _ resource: String?) throws -> (JID, Inbox) {
        let inbox = Inbox()
        let jid = try router.bind(username: user, requested: resource) { jid in
            XMPPRouter.Session(
                jid: jid, deliver: { s in inbox.stanzas.withLock { $0.append(s) } }, terminate: { e in inbox.ended.withLock { $0 = e } })
        }.get()
        return (jid, inbox)
    }

    @Test func messagesToFullAndBareJIDsAndOfflineBounces() async throws {
        let (alice, aliceInbox) = try connect("alice", "phone")
        let (_, bobPhone) = try connect("bob", "phone")
        let (_, bobDesk) = try connect("bob", "desk")
        await router.route(stanza("message", ["to": "bob@localhost/desk", "from": alice.description, "type": "chat"]), from: alice)
        #expect(bobDesk.take().count == 1 && bobPhone.take().isEmpty)
        await router.route(stanza("message", ["to": "bob@localhost", "from": alice.description, "type": "chat"]), from: alice)
        #expect(bobDesk.take().count == 1 && bobPhone.take().count == 1)
        await router.route(stanza("message", ["to": "carol@localhost", "from": alice.description, "id": "m1"]), from: alice)
        let bounced = aliceInbox.take()
        #expect(bounced.count == 1 && condition(bounced[0]) == "service-unavailable" && bounced[0].attribute(XName("id")) == "m1")
        await router.route(stanza("message", ["to": "x@elsewhere.example", "from": alice.description]), from: alice)
        #expect(condition(aliceInbox.take()[0]) == "remote-server-not-found")
    }

    @Test func bareMessagesGoToAvailableResourcesOfNonNegativePriority() async throws {
        let (alice, _) = try connect("alice", "a")
        let (phone, phoneInbox) = try connect("bob", "phone")
        let (desk, deskInbox) = try connect("bob", "desk")
        await router.route(
            stanza("presence", ["from": phone.description], [XElement(XName("priority", namespace: "jabber:client"), text: "-1")]), from: phone)
        await router.route(
            stanza("presence", ["from": desk.description], [XElement(XName("priority", namespace: "jabber:client"), text: "5")]), from: desk)
        _ = (phoneInbox.take(), deskInbox.take())
        await router.route(stanza("message", ["to": "bob@localhost", "from": alice.description, "type": "chat"]), from: alice)
        #expect(deskInbox.take().count == 1 && phoneInbox.take().isEmpty)
    }

    @Test func serverIQs() async throws {
        let (alice, inbox) = try connect("alice", nil)
        #expect(alice.resource?.hasPrefix("switchboard-") == true)  // a server-made resource when none is asked
        await router.route(
            stanza("iq", ["type": "get", "id": "p", "to": "localhost"], [XElement(XName("ping", namespace: "urn:xmpp:ping"))]), from: alice)
        let pong = inbox.take()
        #expect(pong.first?.attribute(XName("type")) == "result" && pong.first?.attribute(XName("id")) == "p")
        await router.route(
            stanza("iq", ["type": "get", "id": "d"], [XElement(XName("query", namespace: "http://jabber.org/protocol/disco#info"))]), from: alice)
        let features = inbox.take().first?.elements.first?.elements.compactMap { $0.attribute(XName("var")) } ?? []
        #expect(features.contains("urn:xmpp:ping"))
        await router.route(stanza("iq", ["type": "get", "id": "u"], [XElement(XName("query", namespace: "urn:unknown"))]), from: alice)
        #expect(condition(inbox.take()[0]) == "service-unavailable")
        // An iq to an offline full JID of another account.
        await router.route(
            stanza("iq", ["type": "get", "id": "o", "to": "bob@localhost/x"], [XElement(XName("ping", namespace: "urn:xmpp:ping"))]), from: alice)
        #expect(condition(inbox.take()[0]) == "service-unavailable")
    }

    @Test func subscriptionThenPresenceFlows() async throws {
        let (alice, aliceInbox) = try connect("alice", "a")
        let (bob, bobInbox) = try connect("bob", "b")
        await router.route(stanza("presence", ["from": bob.description]), from: bob)  // bob is available
        await router.route(stanza("presence", ["type": "subscribe", "to": "bob@localhost", "from": alice.description]), from: alice)
        let request = bobInbox.take().filter { $0.name.local == "presence" }
        #expect(request.first?.attribute(XName("type")) == "subscribe" && request.first?.attribute(XName("from")) == "alice@localhost")
        await router.route(stanza("presence", ["type": "subscribed", "to": "alice@localhost", "from": bob.description]), from: bob)
        let received = aliceInbox.take()
        #expect(received.contains { $0.name.local == "presence" && $0.attribute(XName("type")) == "subscribed" })
        #expect(received.contains { $0.name.local == "presence" && $0.attribute(XName("type")) == nil })  // bob's current presence
        #expect(received.contains { $0.name.local == "iq" })  // the roster push
        #expect(await router.roster.item(of: alice, contact: bob.bare)?.subscription == .to)
        #expect(await router.roster.item(of: bob, contact: alice.bare)?.subscription == .from)
        // Bob's presence now reaches alice; alice's does not reach bob (he has no subscription to her).
        _ = bobInbox.take()
        await router.route(
            stanza("presence", ["from": bob.description], [XElement(XName("show", namespace: "jabber:client"), text: "away")]), from: bob)
        #expect(aliceInbox.take().count == 1)
        await router.route(stanza("presence", ["from": alice.description]), from: alice)
        #expect(bobInbox.take().isEmpty)
        // Alice's first available presence fetched the presence of the contacts she sees: bob's, away.
        #expect(aliceInbox.take().map { $0.element(XName("show", namespace: "jabber:client"))?.text } == ["away"])
        // Bob goes away: alice sees him unavailable.
        await router.unbind(bob) { _ in true }
        #expect(aliceInbox.take().first?.attribute(XName("type")) == "unavailable")
    }

    @Test func directedPresenceRecipientsLearnOfTheLogout() async throws {
        let (alice, _) = try connect("alice", "a")
        let (bob, bobInbox) = try connect("bob", "b")
        await router.route(stanza("presence", ["to": bob.description, "from": alice.description]), from: alice)
        #expect(bobInbox.take().count == 1)
        await router.unbind(alice) { _ in true }
        let after = bobInbox.take()
        #expect(
            after.count == 1 && after.first?.attribute(XName("type")) == "unavailable" && after.first?.attribute(XName("from")) == alice.description)
    }

    @Test func aSecondLoginOnOneResourceEndsTheFirstAndAccountsAreBounded() throws {
        let (_, first) = try connect("alice", "phone")
        _ = try connect("alice", "phone")
        #expect(first.ended.withLock { $0?.condition } == .conflict)
        _ = try connect("alice", "desk")
        #expect(throws: XMPPStreamError.self) { try connect("alice", "tablet") }  // two per account here
    }
}
