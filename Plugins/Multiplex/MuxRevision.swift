/// The revisions of the multiplexing draft (draft-ietf-hybi-websocket-multiplexing)
/// this plug-in knows, each with the extension token that names it.
///
/// The drafts were never finished. Revision 11 is the last and registers the
/// token `mux`; mod_pywebsocket 0.7.9, the one implementation that still runs,
/// speaks revision 06 under the token `mux_DO_NOT_USE`. The control block
/// layouts and codes this module encodes are the same for both; see
/// `docs/multiplexing.md` for what differs and what is still to be checked.
public enum MuxRevision: Sendable, Hashable, CaseIterable {
    /// Revision 06, as mod_pywebsocket 0.7.9 implements it.
    case draft06
    /// Revision 11, the last one.
    case draft11

    /// The extension token that selects this revision in `Sec-WebSocket-Extensions`.
    public var token: String {
        switch self {
        case .draft06: return "mux_DO_NOT_USE"
        case .draft11: return "mux"
        }
    }

    /// The revision an extension token names, or `nil` for any other token.
    public init?(token: String) {
        guard let revision = Self.allCases.first(where: { $0.token == token }) else { return nil }
        self = revision
    }
}
