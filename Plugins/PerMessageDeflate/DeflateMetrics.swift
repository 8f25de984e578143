import CoreMetrics

/// What permessage-deflate counts through swift-metrics (a no-op until the application
/// bootstraps a backend, which it does before the first compressed message): the payload
/// bytes of compressed messages on both sides of zlib, each way, so that the ratio a
/// server gets from its traffic can be read off, and its CPU weighed against it.
///
/// | metric | labels |
/// |---|---|
/// | `websocket.deflate.bytes` | `websocket.direction` (`sent`, `received`), `websocket.deflate.form` (`compressed`, `uncompressed`) |
///
/// Messages under ``PerMessageDeflate/Configuration/compressionThreshold``, sent as they are,
/// are not counted. One set of counters for the process: a frame costs two calls.
enum DeflateMetrics {
    private static let sentUncompressed = counter("sent", "uncompressed")
    private static let sentCompressed = counter("sent", "compressed")
    private static let receivedCompressed = counter("received", "compressed")
    private static let receivedUncompressed = counter("received", "uncompressed")

    private static func counter(_ direction: String, _ form: String) -> Counter {
        Counter(label: "websocket.deflate.bytes", dimensions: [("websocket.direction", direction), ("websocket.deflate.form", form)])
    }

    static func sent(uncompressed: Int, compressed: Int) {
        sentUncompressed.increment(by: uncompressed)
        sentCompressed.increment(by: compressed)
    }

    static func received(compressed: Int, uncompressed: Int) {
        receivedCompressed.increment(by: compressed)
        receivedUncompressed.increment(by: uncompressed)
    }
}
