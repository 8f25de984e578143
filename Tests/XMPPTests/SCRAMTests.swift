import SwitchboardCore
import Testing

@testable import XMPP

/// The test vectors of RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256), both ends.
@Suite struct SCRAMTests {
    struct Vector: Sendable, CustomStringConvertible {
        var mechanism: SCRAMMechanism
        var clientNonce: String
        var serverNonce: String
        var salt: String
        var clientFinal: String
        var serverFinal: String
        var description: String { mechanism.rawValue }
    }

    static let vectors = [
        Vector(
            mechanism: .sha1, clientNonce: "fyko+d2lbbFgONRv9qkxdawL", serverNonce: "3rfcNHYJY1ZVvWVs7j", salt: "QSXCR+Q6sek8bf92",
            clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
        Vector(
            mechanism: .sha256, clientNonce: "rOprNGfwEbeRWgbNEkqO", serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
            clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
    ]

    @Test(arguments: vectors)
    func bothEndsReproduceTheRFCExchange(_ vector: Vector) throws {
        let salt = try #require(Base64.decode(vector.salt))
        let stored = SCRAMCredentials(password: "pencil", mechanism: vector.mechanism, iterations: 4096, salt: salt)
        var client = SCRAMClient(mechanism: vector.mechanism, username: "user", password: "pencil", nonce: vector.clientNonce)
        var server = SCRAMServer(mechanism: vector.mechanism)
        #expect(client.clientFirst == "n,,n=user,r=\(vector.clientNonce)")
        let serverFirst = try server.receiveClientFirst(client.clientFirst, serverNonce: vector.serverNonce) { $0 == "user" ? stored : nil }
        #expect(serverFirst == "r=\(vector.clientNonce)\(vector.serverNonce),s=\(vector.salt),i=4096")
        let clientFinal = try client.receiveServerFirst(serverFirst)
        #expect(clientFinal == vector.clientFinal)
        let serverFinal = try server.receiveClientFinal(clientFinal)
        #expect(serverFinal == vector.serverFinal)
        try client.receiveServerFinal(serverFinal)
        #expect(server.username == "user")
    }

    @Test(arguments: SCRAMMechanism.allCases)
    func wrongPasswordsUnknownUsersAndMalformedMessagesFail(_ mechanism: SCRAMMechanism) throws {
        let stored = SCRAMCredentials(password: "right", mechanism: mechanism)
        func attempt(user: String, password: String) throws(SCRAMServer.Failure) {
            var client = SCRAMClient(mechanism: mechanism, username: user, password: password)
            var server = SCRAMServer(mechanism: mechanism)
            let first = try server.receiveClientFirst(client.clientFirst, serverNonce: "srv") { $0 == "alice" ? stored : nil }
            _ = try server.receiveClientFinal(try! client.receiveServerFirst(first))
        }
        #expect(throws: Never.self) { try attempt(user: "alice", password: "right") }
        #expect(throws: SCRAMServer.Failure.notAuthorized) { try attempt(user: "alice", password: "wrong") }
        #expect(throws: SCRAMServer.Failure.notAuthorized) { try attempt(user: "mallory", password: "right") }

        var server = SCRAMServer(mechanism: mechanism)
        #expect(throws: SCRAMServer.Failure.self) { try server.receiveClientFirst("p=tls-unique,,n=alice,r=x", serverNonce: "s") { _ in stored } }
        #expect(throws: SCRAMServer.Failure.self) { try server.receiveClientFirst("n,,r=x", serverNonce: "s") { _ in stored } }
        #expect(throws: SCRAMServer.Failure.self) { try server.receiveClientFinal("c=biws,r=x,p=AAAA") }
        // A server asking for billions of iterations is refused before any is computed.
        var greedy = SCRAMClient(mechanism: mechanism, username: "alice", password: "right", nonce: "abc")
        #expect(throws: SCRAMClient.Failure.self) { try greedy.receiveServerFirst("r=abcdef,s=QSXCR+Q6sek8bf92,i=2000000000") }
        #expect(SCRAMServer.unescape("a=2Cb=3Dc") == "a,b=c")
        #expect(SCRAMServer.unescape("a=2") == nil)
        #expect(SCRAMClient.escape("a,b=c") == "a=2Cb=3Dc")
    }

    @Test func jids() {
        #expect(JID("alice@Example.ORG/phone/2")?.description == "alice@example.org/phone/2")
        #expect(JID("example.org")?.localpart == nil)
        #expect(JID("alice@example.org")?.isBare == true)
        #expect(JID("alice@example.org/r")?.bare == JID("alice@example.org"))
        for bad in ["", "@example.org", "alice@", "alice@example.org/", "a@b@c"] { #expect(JID(bad) == nil, "\(bad)") }
    }
}
