import Synchronization

/// Collects the responses of one batch; the array goes out when the last arrives (§6).
///
/// Calls of a batch to methods that await run concurrently; the array keeps the
/// order of the requests, which the specification allows but does not require.
final class BatchReply: Sendable {
    private struct State {
        var responses: [[UInt8]?]
        var missing: Int
    }

    private let state: Mutex<State>

    /// A reply with `count` responses to come (requests with an id, and invalid members).
    init(count: Int) {
        state = Mutex(State(responses: Array(repeating: nil, count: count), missing: count))
    }

    /// Records the response at `slot`; returns the whole batch once every slot is filled.
    func fill(_ slot: Int, with response: [UInt8]) -> [UInt8]? {
        let complete: [[UInt8]]? = state.withLock { state in
            guard state.responses[slot] == nil else { return nil }
            state.responses[slot] = response
            state.missing -= 1
            return state.missing == 0 ? state.responses.map { $0! } : nil
        }
        return complete.map(Envelope.batch)
    }
}
