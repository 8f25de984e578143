import NIOCore
import SwitchboardCore

/// One open logical channel: its engine, its quotas both ways and what waits to be sent.
struct MuxChannel {
    /// A frame waiting for send quota, with the completion of the message it ends.
    struct Pending {
        var frame: WireFrame
        var completion: ((Result<Void, WebSocketError>) -> Void)?
        /// Whether a piece of this frame went out already (the rest continues it).
        var started = false
    }

    let id: MuxChannelID
    var engine: WebSocketEngine
    /// Bytes we may still send (the peer's grants, minus what we sent).
    var sendQuota: Int
    /// Bytes the peer may still send before we grant more.
    var receiveQuota: Int
    /// Bytes consumed since the last grant, given back when the application reads on.
    var credit = 0
    /// The application has enough buffered: credit is held until it reads more.
    var held = false
    var queue: [Pending] = []
    var queueHead = 0
    /// Frames received while ``held``, not yet decoded: at most the quota the peer had left.
    var heldFrames = CircularBuffer<WireFrame>(initialCapacity: 1)
    /// A control frame the peer is sending in pieces (draft 06 lets a sender split any frame).
    var controlInProgress: WireFrame?
    /// The longest control frame payload (RFC 6455 §5.5), checked piece by piece when one is split.
    static let maxControlPayload = 125
    /// The application's handler has returned.
    var finished = false
    /// The inbound side was ended for the application.
    var inboundEnded = false

    init(id: MuxChannelID, engine: WebSocketEngine, sendQuota: Int, receiveQuota: Int) {
        self.id = id
        self.engine = engine
        self.sendQuota = sendQuota
        self.receiveQuota = receiveQuota
    }

    /// What a frame costs in quota: its payload, plus one when it starts a message or is a control frame.
    static func cost(_ frame: WireFrame) -> Int {
        frame.payload.readableBytes + (frame.opcode == .continuation ? 0 : 1)
    }

    var hasQueued: Bool { queueHead < queue.count }

    /// Control bytes waiting for quota.
    var pendingControlBytes: Int {
        queue[queueHead...].reduce(0) { $0 + ($1.frame.opcode.isControl ? $1.frame.payload.readableBytes + 1 : 0) }
    }

    /// Moves what the engine produced into the send queue; the last frame carries `completion`.
    mutating func collectOutbound(completion: ((Result<Void, WebSocketError>) -> Void)? = nil) {
        let frames = engine.takeOutboundFrames()
        guard !frames.isEmpty else {
            completion?(.success(()))
            return
        }
        for (index, frame) in frames.enumerated() {
            queue.append(Pending(frame: frame, completion: index == frames.count - 1 ? completion : nil))
        }
    }

    /// Takes the next piece to send within `limit` bytes and the quota, or `nil`
    /// when nothing is queued or the quota cannot pay for a byte of it.
    mutating func nextPiece(limit: Int) -> (frame: WireFrame, completion: ((Result<Void, WebSocketError>) -> Void)?)? {
        guard hasQueued else { return nil }
        var head = queue[queueHead]
        let startCost = head.started ? 0 : 1
        let room = min(limit, sendQuota - startCost)
        guard room >= 0, sendQuota > 0 else { return nil }
        let length = head.frame.payload.readableBytes
        let opcode: WireOpcode = head.started ? .continuation : head.frame.opcode
        let bits: WireFrame.ReservedBits = head.started ? [] : head.frame.reservedBits
        if length <= room {
            sendQuota -= length + startCost
            queueHead += 1
            if queueHead == queue.count {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
            }
            return (WireFrame(fin: head.frame.fin, reservedBits: bits, opcode: opcode, payload: head.frame.payload), head.completion)
        }
        // Split: this piece continues in the next; RSV bits belong to the first piece only.
        guard room > 0 || !head.started else { return nil }
        let piece = head.frame.payload.readSlice(length: room)!
        head.started = true
        queue[queueHead] = head
        sendQuota -= room + startCost
        return (WireFrame(fin: false, reservedBits: bits, opcode: opcode, payload: piece), nil)
    }

    /// Fails every queued send: the channel is gone.
    mutating func failQueued() {
        let pending = queue[queueHead...]
        queue.removeAll()
        queueHead = 0
        for item in pending { item.completion?(.failure(.connectionClosed)) }
    }
}
