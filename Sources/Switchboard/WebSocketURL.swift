/// A `ws://` or `wss://` URL (RFC 6455 §3), split into what the client needs.
public struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    public var isSecure: Bool
    /// The host without brackets, e.g. `::1` or `example.com`.
    public var host: String
    public var port: Int
    /// Path and query, never empty (`/` at least).
    public var target: String

    /// Parses `ws[s]://host[:port][/path][?query]`; the fragment is not allowed (§3).
    public init?(_ string: String) {
        let lower = string.lowercased()
        let rest: Substring
        if lower.hasPrefix("ws://") {
            isSecure = false
            rest = string.dropFirst(5)
        } else if lower.hasPrefix("wss://") {
            isSecure = true
            rest = string.dropFirst(6)
        } else {
            return nil
        }
        guard !rest.contains("#") else { return nil }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        target = path.isEmpty ? "/" : path.hasPrefix("?") ? "/" + path : String(path)
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }  // user info is not sent
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            port = isSecure ? 443 : 80
        }
    }

    /// The `Host` header value: the port only when it is not the scheme's default (§4.1 item 4).
    public var hostHeader: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var description: String { "\(isSecure ? "wss" : "ws")://\(hostHeader)\(target)" }
}
