/// How the handshake in an AddChannelRequest or AddChannelResponse is written (2 bits on the wire).
package enum MuxHandshakeEncoding: UInt8, Sendable, Hashable, CaseIterable {
    /// The whole HTTP request or response head (request line or status line, header fields, empty line).
    case identity = 0
    /// Only what differs from the delta base: a request line, then the header
    /// fields to add or replace; a field with an empty value removes that field
    /// from the base. The base is the physical handshake's request until an
    /// identity-encoded AddChannelRequest replaces it (mod_pywebsocket 0.7.9).
    case delta = 1
}
