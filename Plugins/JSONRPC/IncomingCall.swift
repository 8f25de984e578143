/// A call a peer made: a request when it has an id, a notification when it has none (§4, §4.1).
struct IncomingCall: Sendable {
    var method: String
    /// An array (by position) or an object (by name); `nil` when omitted (§4.2).
    var params: JSONValue?
    /// A string, a number or null; `nil` for a notification, which is never answered.
    var id: JSONValue?
}
