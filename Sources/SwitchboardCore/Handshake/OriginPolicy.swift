/// Who may open a WebSocket from a browser page, by the page's `Origin` (RFC 6455 §4.2.1 item 8, §10.2).
public enum OriginPolicy: Sendable {
    /// Every origin, and requests with none. Right for servers whose clients are not browsers.
    case any
    /// Only these origins (e.g. `https://example.com`), compared without case; requests with no `Origin` are allowed,
    /// since only browsers send one and non-browser clients can claim any origin anyway.
    case allow(Set<String>)
    /// A closure given the `Origin` header (or `nil`) and the request.
    case custom(@Sendable (_ origin: String?, _ request: HandshakeRequest) -> Bool)

    func permits(_ request: HandshakeRequest) -> Bool {
        let origin = request.headers.single("Origin")
        switch self {
        case .any: return true
        case .allow(let origins):
            guard let origin else { return true }
            return origins.contains { $0.equalsIgnoringASCIICase(origin) }
        case .custom(let check): return check(origin, request)
        }
    }
}
