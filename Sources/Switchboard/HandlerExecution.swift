import NIOCore

/// Where a connection's handler runs: on its connection's event-loop thread, or
/// on Swift's global concurrent executor.
///
/// The default is ``eventLoop``. Each message then reaches the handler, and each
/// send reaches the socket, without a thread switch: the event loop resumes the
/// handler's task itself, once a read is complete, and writes what the handler
/// sent in answer with one flush. Handing every message from the event-loop
/// thread to a thread of the global executor and back was most of a server's CPU
/// for small messages: 50% of it in the kernel's `finish_task_switch` alone, 1.65
/// context switches per message in a 16-byte ping-pong (Benchmarks/NIOEcho/README.md).
///
/// The rule that comes with it is the rule of any async Swift code, and of any
/// SwiftNIO handler: do not block. A handler that sleeps a thread, waits on a
/// semaphore or computes for a long time without suspending holds up every
/// connection on its event loop (on the global executor it would hold one of
/// its few threads instead). A handler that awaits something else (an actor, a
/// database client, another event loop) hops there and back as usual. Choose
/// ``globalExecutor`` for handlers that do long synchronous work.
public struct WebSocketHandlerExecution: Sendable, Hashable, CustomStringConvertible {
    enum Place: Sendable, Hashable {
        case eventLoop
        case globalExecutor
    }

    let place: Place

    /// On the connection's event-loop thread (a task executor preference): no thread switch per message.
    public static let eventLoop = WebSocketHandlerExecution(place: .eventLoop)
    /// On Swift's global concurrent executor, as an unconfigured task would run.
    public static let globalExecutor = WebSocketHandlerExecution(place: .globalExecutor)

    public var description: String { place == .eventLoop ? "eventLoop" : "globalExecutor" }
}

extension WebSocketHandlerExecution {
    /// The task executor a lone connection on `eventLoop` prefers (a client's), `nil` for the
    /// global executor. A server makes one per loop instead (``EventLoopTaskExecutors``).
    func preference(for eventLoop: any EventLoop) -> EventLoopTaskExecutor? {
        switch place {
        case .eventLoop: EventLoopTaskExecutor(eventLoop)
        case .globalExecutor: nil
        }
    }
}
