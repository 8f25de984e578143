/// Where an extension puts the frames that come out of it.
public struct ExtensionOutput: Sendable {
    /// Frames that continue in the direction the input was going.
    public internal(set) var forwarded: [WireFrame] = []
    /// Frames that go back the other way: toward the peer when decoding,
    /// toward the application when encoding.
    public internal(set) var replies: [WireFrame] = []

    public init() {}

    /// Passes a frame on in the direction of travel.
    public mutating func forward(_ frame: WireFrame) { forwarded.append(frame) }

    /// Sends a frame the other way (a decoding extension answering the peer).
    public mutating func reply(_ frame: WireFrame) { replies.append(frame) }
}
