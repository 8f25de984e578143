/// The key of a value attached to a ``WebSocketContext``: the key is the type itself.
///
/// ```swift
/// enum RequestID: WebSocketContextKey { typealias Value = String }
/// context.values[RequestID.self] = "42"
/// ```
public protocol WebSocketContextKey {
    associatedtype Value: Sendable
}

/// Values attached to a connection's context by the transport and the extensions, each
/// under a key type of its own, so that two modules never collide over a name.
public struct WebSocketContextValues: Sendable {
    // Empty for most connections: an empty dictionary allocates nothing.
    private var storage: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    /// Adds `other`'s values; where both have a key, `other`'s wins.
    public mutating func merge(_ other: WebSocketContextValues) { storage.merge(other.storage) { _, theirs in theirs } }

    public subscript<Key: WebSocketContextKey>(key: Key.Type) -> Key.Value? {
        get { storage[ObjectIdentifier(key)] as? Key.Value }
        set { storage[ObjectIdentifier(key)] = newValue }
    }
}
