import Foundation
import SwitchboardCore
import Testing

@testable import Switchboard

/// `HTTPProxy.fromEnvironment`: which variable, which hosts bypass it, what a value may be.
@Suite("Proxy from the environment")
struct ProxyEnvironmentTests {
    static let ws = WebSocketURL("ws://chat.example.com/live")!
    static let wss = WebSocketURL("wss://chat.example.com/live")!

    @Test("https_proxy for wss, http_proxy for ws, lower case before capitals, all_proxy last, none without any")
    func variableByScheme() throws {
        let environment = ["http_proxy": "http://plain:3128", "HTTPS_PROXY": "secure:8443", "all_proxy": "any:1080"]
        #expect(try HTTPProxy.fromEnvironment(for: Self.ws, environment: environment) == HTTPProxy(host: "plain", port: 3128))
        #expect(try HTTPProxy.fromEnvironment(for: Self.wss, environment: environment) == HTTPProxy(host: "secure", port: 8443))
        #expect(try HTTPProxy.fromEnvironment(for: Self.wss, environment: ["https_proxy": "lower:1", "HTTPS_PROXY": "upper:2"])?.host == "lower")
        #expect(try HTTPProxy.fromEnvironment(for: Self.wss, environment: ["ALL_PROXY": "any:1080"]) == HTTPProxy(host: "any", port: 1080))
        #expect(try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["https_proxy": "secure:8443"]) == nil)
        #expect(try HTTPProxy.fromEnvironment(for: Self.ws, environment: [:]) == nil)
    }

    @Test("Credentials become Proxy-Authorization: Basic, percent-decoded; the port defaults to 80; IPv6 in brackets")
    func valueForms() throws {
        let withUser = try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["http_proxy": "http://ann:s%40cret@proxy.local:8080/"])
        #expect(withUser == HTTPProxy(host: "proxy.local", port: 8080, authorization: "Basic YW5uOnNAY3JldA=="))
        #expect(try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["http_proxy": "proxy.local"]) == HTTPProxy(host: "proxy.local", port: 80))
        #expect(try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["http_proxy": "http://[::1]:3128"]) == HTTPProxy(host: "::1", port: 3128))
    }

    @Test(
        "A value this client cannot use throws instead of going direct",
        arguments: ["https://proxy:443", "socks5://proxy:1080", "proxy:notaport", "http://proxy:3128/path", "http://a%zz@proxy:1"])
    func unusableValue(value: String) {
        #expect(throws: WebSocketError.self) { try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["http_proxy": value]) }
    }

    @Test(
        "no_proxy: a name covers itself and its subdomains, a leading dot too, a port must match, * covers all",
        arguments: [
            ("example.com", true), (".example.com", true), ("chat.example.com", true), ("other.com, example.com", true),
            ("ample.com", false), ("chat.example.com:80", true), ("chat.example.com:8080", false), ("*", true), ("", false),
        ])
    func noProxy(list: String, bypasses: Bool) throws {
        let proxy = try HTTPProxy.fromEnvironment(for: Self.ws, environment: ["http_proxy": "proxy:3128", "no_proxy": list])
        #expect((proxy == nil) == bypasses)
    }

    @Test("no_proxy with IP addresses, v4 and v6, with and without a port")
    func noProxyAddresses() {
        let v4 = WebSocketURL("ws://127.0.0.1:9000/")!
        let v6 = WebSocketURL("ws://[::1]:9000/")!
        #expect(HTTPProxy.noProxy("127.0.0.1", covers: v4))
        #expect(HTTPProxy.noProxy("127.0.0.1:9000", covers: v4))
        #expect(!HTTPProxy.noProxy("127.0.0.1:9001", covers: v4))
        #expect(!HTTPProxy.noProxy("127.0.0.2", covers: v4))
        #expect(HTTPProxy.noProxy("::1", covers: v6))
        #expect(HTTPProxy.noProxy("[::1]:9000", covers: v6))
        #expect(!HTTPProxy.noProxy("[::1]:80", covers: v6))
    }

    @Test("A Foundation URL: ws and wss as they are, http and https as ws and wss; other schemes and fragments are not WebSocket URLs")
    func foundationURL() {
        #expect(WebSocketURL(URL(string: "wss://example.com:8443/chat?room=1")!) == WebSocketURL("wss://example.com:8443/chat?room=1"))
        #expect(WebSocketURL(URL(string: "http://[::1]:8080/echo")!) == WebSocketURL("ws://[::1]:8080/echo"))
        #expect(WebSocketURL(URL(string: "https://example.com")!)?.description == "wss://example.com/")
        #expect(WebSocketURL(URL(string: "ftp://example.com/")!) == nil)
        #expect(WebSocketURL(URL(string: "ws://example.com/#top")!) == nil)
    }
}
