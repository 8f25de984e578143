/// The revisions of the multiplexing draft (draft-ietf-hybi-websocket-multiplexing)
/// this plug-in knows, each with the extension token that names it.
///
/// The drafts were never finished. Revision 11 is the last and registers the
/// token `mux`; mod_pywebsocket 0.7.9, the one implementation that still runs,
/// speaks revision 06 under the token `mux_DO_NOT_USE`. This module writes
/// both in the revision 06 wire format, which mod_pywebsocket confirms; the
/// points where revision 11 may differ are listed, still to be checked, in
/// `docs/multiplexing.md`.
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
