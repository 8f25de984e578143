/// The negotiated extensions of one connection, applied in order (RFC 6455 §9.1).
///
/// Outgoing frames pass through the extensions in the order the server's
/// response named them; incoming frames pass through in reverse, so the
/// extension nearest the wire on the way out is the first to see a frame on
/// the way in.
struct ExtensionPipeline {
    private(set) var extensions: [any WebSocketExtension]

    init(_ extensions: [any WebSocketExtension]) { self.extensions = extensions }

    var isEmpty: Bool { extensions.isEmpty }

    /// Lets every extension free what an idle connection does not need.
    mutating func releaseIdleMemory() {
        for index in extensions.indices { extensions[index].releaseIdleMemory() }
    }

    /// Every bit some extension claims.
    var reservedBits: WireFrame.ReservedBits {
        extensions.reduce(into: []) { $0.formUnion($1.reservedBits) }
    }

    /// Runs a frame received from the wire through the pipeline.
    /// Returns frames for the application and frames to send to the peer.
    mutating func decode(_ frame: WireFrame) throws(WebSocketProtocolError) -> (toApplication: [WireFrame], toPeer: [WireFrame]) {
        var toApplication: [WireFrame] = []
        var toPeer: [WireFrame] = []
        try run(incoming: [frame], from: extensions.count - 1, toApplication: &toApplication, toPeer: &toPeer)
        return (toApplication, toPeer)
    }

    /// Runs a frame from the application through the pipeline.
    mutating func encode(_ frame: WireFrame) throws(WebSocketProtocolError) -> (toPeer: [WireFrame], toApplication: [WireFrame]) {
        var toApplication: [WireFrame] = []
        var toPeer: [WireFrame] = []
        try run(outgoing: [frame], from: 0, toApplication: &toApplication, toPeer: &toPeer)
        return (toPeer, toApplication)
    }

    /// Incoming frames visit extensions `index`, `index - 1`, ..., 0.
    private mutating func run(
        incoming frames: [WireFrame], from index: Int,
        toApplication: inout [WireFrame], toPeer: inout [WireFrame]
    ) throws(WebSocketProtocolError) {
        guard index >= 0 else {
            toApplication += frames
            return
        }
        for frame in frames {
            var output = ExtensionOutput()
            try extensions[index].decode(frame, into: &output)
            try run(incoming: output.forwarded, from: index - 1, toApplication: &toApplication, toPeer: &toPeer)
            try run(outgoing: output.replies, from: index + 1, toApplication: &toApplication, toPeer: &toPeer)
        }
    }

    /// Outgoing frames visit extensions `index`, `index + 1`, ..., last.
    private mutating func run(
        outgoing frames: [WireFrame], from index: Int,
        toApplication: inout [WireFrame], toPeer: inout [WireFrame]
    ) throws(WebSocketProtocolError) {
        guard index < extensions.count else {
            toPeer += frames
            return
        }
        for frame in frames {
            var output = ExtensionOutput()
            try extensions[index].encode(frame, into: &output)
            try run(outgoing: output.forwarded, from: index + 1, toApplication: &toApplication, toPeer: &toPeer)
            try run(incoming: output.replies, from: index - 1, toApplication: &toApplication, toPeer: &toPeer)
        }
    }
}
