/// One element of a `Sec-WebSocket-Extensions` header: an extension token and
/// its parameters (RFC 6455 §9.1), as offered by a client or answered by a server.
public struct ExtensionOffer: Sendable, Hashable, CustomStringConvertible {
    /// One `name[=value]` of an element.
    public struct Parameter: Sendable, Hashable {
        public var name: String
        /// `nil` for a parameter without `=value`.
        public var value: String?
        public init(_ name: String, _ value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    /// The extension's token, e.g. `permessage-deflate`.
    public var token: String
    /// The parameters, in the order they were written.
    public var parameters: [Parameter]

    public init(_ token: String, _ parameters: [Parameter] = []) {
        self.token = token
        self.parameters = parameters
    }

    /// The element as it appears in the header, e.g. `permessage-deflate; client_max_window_bits`.
    public var description: String {
        ([token] + parameters.map { p in p.value.map { "\(p.name)=\(ExtensionHeader.quotedIfNeeded($0))" } ?? p.name })
            .joined(separator: "; ")
    }
}
