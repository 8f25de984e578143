import FuzzDriver
import NIOCore
import SwitchboardCore

/// The frame parser, message assembler and UTF-8 validator, as a socket feeds them: the
/// input's first byte picks the role and how the rest is cut into reads.
///
/// Beyond crashes and sanitizer findings, it checks what the engine promises the
/// application: every text message is valid UTF-8, and no message exceeds the limit.
@_cdecl("FuzzFrames_main")
public func fuzzFramesMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    switchboard_fuzz_main(argc, argv, fuzzFrames)
}

func fuzzFrames(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data else { return 0 }
    guard count > 0 else { return 0 }
    let control = start[0]
    let limits = WebSocketLimits(maxFrameSize: 2048, maxMessageSize: 4096)
    var engine = WebSocketEngine(role: control & 1 == 0 ? .server : .client, limits: limits)
    let readSize = Int(control >> 1) + 1  // 1...128 bytes per read
    var offset = 1
    while offset < count, engine.failure == nil {
        let length = min(readSize, count - offset)
        var read = ByteBuffer(bytes: UnsafeBufferPointer(start: start + offset, count: length))
        offset += length
        while let event = engine.receive(from: &read) {
            if case .message(let message) = event {
                precondition(message.data.readableBytes <= limits.maxMessageSize, "a message past the limit was delivered")
                if message.kind == .text {
                    precondition(String(validating: message.data.readableBytesView, as: UTF8.self) != nil, "invalid UTF-8 delivered as text")
                }
            }
        }
        _ = engine.takeOutbound()
    }
    // The application's side after whatever the peer did: a send and a close must not trap.
    try? engine.send(.text("after"))
    engine.close(code: .normalClosure, reason: "fuzz")
    _ = engine.takeOutbound()
    return 0
}
