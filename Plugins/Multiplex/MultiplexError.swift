/// Why a logical channel could not be opened.
public enum MultiplexError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection did not negotiate multiplexing, no channel slot is left, the
    /// server refused the channel's handshake, or it did not answer in time.
    case channelRefused(String)

    public var description: String {
        switch self {
        case .channelRefused(let why): return "logical channel refused: \(why)"
        }
    }
}
