/// The opening handshake request as a handler sees it (RFC 6455 §4.1).
public struct HandshakeRequest: Sendable, Hashable {
    public var method: String
    /// The HTTP version, e.g. `(1, 1)`; the handshake needs 1.1 or later (§4.1).
    public var majorVersion: Int
    public var minorVersion: Int
    /// The request target: path and query, as sent.
    public var target: String
    public var headers: HandshakeHeaders
    /// The peer's address, as the transport names it (`"127.0.0.1:53210"`); `nil` when there is no socket (tests, mux).
    public var remoteAddress: String?
    /// Whether the request came over TLS (`wss://`) to this server. A TLS-terminating proxy in
    /// front makes it `false`: the transport sees only the proxy's plain connection.
    public var isSecure: Bool

    public init(
        method: String = "GET", target: String, headers: HandshakeHeaders, remoteAddress: String? = nil,
        majorVersion: Int = 1, minorVersion: Int = 1, isSecure: Bool = false
    ) {
        self.method = method
        self.majorVersion = majorVersion
        self.minorVersion = minorVersion
        self.target = target
        self.headers = headers
        self.remoteAddress = remoteAddress
        self.isSecure = isSecure
    }

    /// The request a ``HTTPHeadReader`` read; `nil` when its request line does not end
    /// in an HTTP version (`HTTP/<major>.<minor>`), which the server answers 400.
    public init?(head: HTTPHeadReader.Head, remoteAddress: String?) {
        guard head.startLine.count == 3 else { return nil }
        let version = head.startLine[2].utf8
        guard version.starts(with: "HTTP/".utf8), let dot = version.firstIndex(of: UInt8(ascii: ".")),
            let major = Int(Substring(version[version.index(version.startIndex, offsetBy: 5)..<dot])),
            let minor = Int(Substring(version[version.index(after: dot)...]))
        else { return nil }
        self.init(
            method: head.startLine[0], target: head.startLine[1], headers: head.headers, remoteAddress: remoteAddress,
            majorVersion: major, minorVersion: minor)
    }

    /// The path, without the query.
    public var path: String { String(target[..<pathEnd]) }

    /// The query string after `?`, not decoded; `nil` when there is none.
    public var query: String? {
        let bytes = target.utf8
        // A `?` inside the fragment (after `#`) starts no query.
        let question = pathEnd
        guard question != bytes.endIndex, bytes[question] == UInt8(ascii: "?") else { return nil }
        let start = bytes.index(after: question)
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        return String(target[start..<end])
    }

    /// Where the path ends: at the first `?` or `#`. By UTF-8 code unit: `prefix(while:)` on the
    /// String worked Character by Character.
    private var pathEnd: String.Index {
        target.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.endIndex
    }

    /// The query's `name=value` pairs, percent-decoded (`+` as space).
    public var queryItems: [(name: String, value: String)] {
        guard let query else { return [] }
        return query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecode(parts[0], plusAsSpace: true), parts.count > 1 ? percentDecode(parts[1], plusAsSpace: true) : "")
        }
    }

    /// The `Cookie` header's `name=value` pairs (RFC 6265 §5.4), values as sent; the first
    /// of a name that appears twice.
    public var cookies: [String: String] {
        var cookies: [String: String] = [:]
        for header in headers["Cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = parts[0].trimmingHTTPWhitespace()
                guard !name.isEmpty, cookies[name] == nil else { continue }
                var value = parts.count > 1 ? parts[1].trimmingHTTPWhitespace() : ""
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
                cookies[name] = value
            }
        }
        return cookies
    }

    public static func == (l: Self, r: Self) -> Bool {
        l.method == r.method && l.majorVersion == r.majorVersion && l.minorVersion == r.minorVersion && l.target == r.target && l.headers == r.headers
            && l.remoteAddress == r.remoteAddress && l.isSecure == r.isSecure
    }

    public func hash(into h: inout Hasher) {
        h.combine(method)
        h.combine(majorVersion)
        h.combine(minorVersion)
        h.combine(target)
        h.combine(headers)
        h.combine(remoteAddress)
        h.combine(isSecure)
    }
}

/// `%XX` decoded (and `+` as a space in a query); invalid UTF-8 is repaired, not refused.
func percentDecode(_ s: Substring, plusAsSpace: Bool) -> String {
    var out: [UInt8] = []
    var bytes = Array(s.utf8)[...]
    while let b = bytes.popFirst() {
        if plusAsSpace && b == UInt8(ascii: "+") {
            out.append(UInt8(ascii: " "))
        } else if b == UInt8(ascii: "%"), bytes.count >= 2,
            let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
        {
            out.append(v)
            bytes = bytes.dropFirst(2)
        } else {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
