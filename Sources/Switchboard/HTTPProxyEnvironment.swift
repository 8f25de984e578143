import SwitchboardCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension HTTPProxy {
    /// The proxy the environment names for `url`, read as curl reads it: `https_proxy` for
    /// wss and `http_proxy` for ws (each also in capitals, the lower-case one first), then
    /// `all_proxy`; none when `no_proxy` covers the host.
    ///
    /// A proxy is `http://[user:password@]host[:port]` (the scheme may be left out; the port
    /// defaults to 80); its user and password become `Proxy-Authorization: Basic`. `no_proxy`
    /// is a comma-separated list of host names, each also covering its subdomains (a leading
    /// dot is allowed), IP addresses, each optionally with `:port`, or `*` for every host.
    ///
    /// Throws when the variable holds something else (an `https://` proxy: TLS to the proxy
    /// itself is not supported), rather than connecting without the proxy it names.
    public static func fromEnvironment(
        for url: WebSocketURL, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(WebSocketError) -> HTTPProxy? {
        func value(_ name: String) -> (name: String, value: String)? {
            for key in [name, name.uppercased()] {
                if let value = environment[key]?.trimmingHTTPWhitespace(), !value.isEmpty { return (key, value) }
            }
            return nil
        }
        guard let (name, setting) = value(url.isSecure ? "https_proxy" : "http_proxy") ?? value("all_proxy") else { return nil }
        if let exceptions = value("no_proxy")?.value, Self.noProxy(exceptions, covers: url) { return nil }
        guard let proxy = HTTPProxy(environmentValue: setting) else {
            throw .handshakeFailed("\(name) is not an http:// proxy this client can use: \(setting)")
        }
        return proxy
    }

    /// Parses `[http://][user:password@]host[:port][/]`.
    init?(environmentValue: String) {
        var rest = Substring(environmentValue)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            guard rest[..<colon].lowercased() == "http" else { return nil }
            rest = rest[colon...].dropFirst(3)
        }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...].allSatisfy({ $0 == "/" }) else { return nil }
            rest = rest[..<slash]
        }
        var authorization: String?
        if let at = rest.lastIndex(of: "@") {
            guard let credentials = Self.percentDecoded(rest[..<at]) else { return nil }
            authorization = "Basic " + Base64.encode(credentials)
            rest = rest[rest.index(after: at)...]
        }
        guard let target = WebSocketURL("ws://\(rest)"), target.target == "/" else { return nil }
        self.init(host: target.host, port: target.port, authorization: authorization)
    }

    /// Whether the `no_proxy` list `list` names the host of `url`.
    static func noProxy(_ list: String, covers url: WebSocketURL) -> Bool {
        let host = url.host.lowercased()
        for raw in list.split(separator: ",") {
            var entry = raw.trimmingHTTPWhitespace().lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix("[") || entry.filter({ $0 == ":" }).count == 1, let parsed = WebSocketURL("ws://\(entry)") {
                // host:port or [v6]:port; a bare IPv6 address has more than one colon and no brackets.
                let hasPort = entry.hasPrefix("[") ? entry.contains("]:") : true
                if hasPort && parsed.port != url.port { continue }
                entry = parsed.host
            }
            if entry.hasPrefix(".") { entry.removeFirst() }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// The bytes of `text` with its `%XX` escapes decoded; `nil` for a broken escape.
    static func percentDecoded(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
