import NIOCore
import Switchboard
import SwitchboardCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `switchboard bench --handshakes`: opening handshakes per second.
///
/// C loops, spread over the generator's threads, each: connect over TCP, send
/// the upgrade request, read the response head, check it as a client does
/// (§4.1: a 101, the right `Sec-WebSocket-Accept`, `Upgrade` and `Connection`),
/// close the TCP connection with a reset (`SO_LINGER` 0: thousands of
/// handshakes a second would otherwise fill the ephemeral ports with
/// `TIME_WAIT`), start again. Each handshake's time
/// (connect to checked 101) goes into the latency histogram; a refused,
/// dropped or wrong answer is an error and fails the run.
///
/// The loops run on plain non-blocking sockets and one `poll` set per thread,
/// not on NIO channels. A NIO client channel (bootstrap, pipeline, futures, a
/// head parsed into strings) cost the generator as much user-space work as the
/// server's whole handshake: with it, the generator sat at 95% of its core and
/// the server at 67% (`perf`: half of the generator's samples in Swift and libc).
/// Here a handshake costs the generator its system calls, `HTTPHeadReader` and
/// `WebSocketClientHandshake.validate`.
enum BenchHandshakes {
    /// What every loop sends and expects; built once.
    struct Plan: Sendable {
        var address: SocketAddress
        /// The client's handshake: its request, and the checks of the answer (§4.1).
        var handshake: WebSocketClientHandshake
        /// The whole request head, ready to write.
        var request: [UInt8]

        init(url: WebSocketURL) throws {
            address = try SocketAddress.makeAddressResolvingHost(url.host, port: url.port)
            handshake = WebSocketClientHandshake(host: url.hostHeader, target: url.target)
            let head = HTTPHeadWriter.request(method: "GET", target: handshake.request.target, headers: handshake.request.headers)
            request = Array(head.readableBytesView)
        }
    }

    /// Where the run is, set by the command and read by every loop's thread.
    final class Phase: Sendable {
        static let warmingUp = 0, measuring = 1, over = 2
        private let value = Atomic<Int>(Phase.warmingUp)

        var current: Int { value.load(ordering: .relaxed) }
        func beginMeasuring() { value.store(Phase.measuring, ordering: .relaxed) }
        func end() { value.store(Phase.over, ordering: .relaxed) }
    }

    /// Runs `loops` handshake loops on the calling thread until `phase` is over; returns what they counted
    /// while it was measuring. Blocks: call it on a thread of its own.
    static func run(loops: Int, plan: Plan, phase: Phase) -> BenchSnapshot {
        var runner = Runner(loops: loops, plan: plan)
        return runner.run(phase: phase)
    }

    /// One handshake in progress.
    private struct Slot {
        var fd: Int32 = -1
        var started: UInt64 = 0
        var requestSent = false
        /// The response head read so far (it normally arrives in one read).
        var response = HTTPHeadReader(limit: 16 * 1024)
    }

    /// The loops of one thread, around one `poll` set: a few dozen descriptors, so no
    /// `epoll` registration per connection.
    private struct Runner {
        let plan: Plan
        var slots: [Slot]
        /// `slots[i]`'s socket and what it waits for: writable until the request is out, then readable.
        var polled: [pollfd]
        let recorder = BenchRecorder()
        var scratch = [UInt8](repeating: 0, count: 4096)

        init(loops: Int, plan: Plan) {
            self.plan = plan
            self.slots = Array(repeating: Slot(), count: loops)
            self.polled = Array(repeating: pollfd(fd: -1, events: 0, revents: 0), count: loops)
        }

        mutating func run(phase: Phase) -> BenchSnapshot {
            var measuring = false
            while true {
                // A slot whose handshake ended (or could not start) opens its next connection here, not
                // from inside the failure: a socket that cannot be made is retried once per pass, not in a recursion.
                for index in slots.indices where slots[index].fd < 0 { start(index) }
                switch phase.current {
                case Phase.measuring where !measuring:
                    recorder.startMeasuring()
                    measuring = true
                case Phase.over:
                    if measuring { _ = recorder.stopMeasuring() }
                    for index in slots.indices where slots[index].fd >= 0 { close(slots[index].fd) }
                    return recorder.snapshot()
                default:
                    break
                }
                let ready = poll(&polled, nfds_t(polled.count), 10)
                guard ready >= 0 else {
                    if errno == EINTR { continue }
                    recorder.recordError("poll: \(String(cString: strerror(errno)))")
                    phase.end()
                    continue
                }
                for index in polled.indices where polled[index].revents != 0 { handle(index, events: polled[index].revents) }
            }
        }

        /// Opens slot `index`'s next connection.
        private mutating func start(_ index: Int) {
            let family = Int32(plan.address.protocol.rawValue)
            #if canImport(Glibc)
                let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            #elseif canImport(Musl)
                let fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)  // plain `int` constants
            #else
                let fd = socket(family, SOCK_STREAM, 0)  // Darwin has no SOCK_NONBLOCK or SOCK_CLOEXEC: set below
            #endif
            guard fd >= 0 else { return fail(index, "socket: \(String(cString: strerror(errno)))") }
            #if canImport(Darwin)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                // SwiftNIO ignores SIGPIPE process-wide on Linux only: a write to a reset connection fails with EPIPE.
                var noSigPipe: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &noSigPipe, socklen_t(MemoryLayout<Int32>.size))
            #endif
            var one: Int32 = 1
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            slots[index].fd = fd
            polled[index] = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            slots[index].started = monotonicNanoseconds()
            slots[index].requestSent = false
            slots[index].response = HTTPHeadReader(limit: 16 * 1024)
            let connected = plan.address.withSockAddr { connect(fd, $0, socklen_t($1)) }
            guard connected == 0 || errno == EINPROGRESS else { return fail(index, "connect: \(String(cString: strerror(errno)))") }
        }

        private mutating func handle(_ index: Int, events: Int16) {
            let fd = slots[index].fd
            guard fd >= 0 else { return }
            if !slots[index].requestSent {
                if events & Int16(POLLERR | POLLHUP) != 0 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    return fail(index, "connect: \(String(cString: strerror(error)))")
                }
                guard events & Int16(POLLOUT) != 0 else { return }
                let written = plan.request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == plan.request.count else {
                    return fail(index, written < 0 ? "write: \(String(cString: strerror(errno)))" : "the request did not fit the send buffer")
                }
                slots[index].requestSent = true
                polled[index].events = Int16(POLLIN)
                return
            }
            guard events & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { return }
            while true {
                let count = scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK { return }
                    if errno == EINTR { continue }
                    return fail(index, "read: \(String(cString: strerror(errno)))")
                }
                guard count > 0 else { return fail(index, "the server closed the connection before its response head was whole") }
                let head: HTTPHeadReader.Head
                do {
                    guard let (whole, _) = try slots[index].response.read(ByteBuffer(bytes: scratch[..<count])) else {
                        return  // the rest comes with the next readable event
                    }
                    head = whole
                } catch {
                    return fail(index, "response head: \(error)")
                }
                guard head.startLine.count >= 2, let status = Int(head.startLine[1]) else {
                    return fail(index, "malformed status line: \(head.startLine.joined(separator: " "))")
                }
                do {
                    _ = try plan.handshake.validate(status: status, headers: head.headers)
                } catch {
                    return fail(index, "\(error)")
                }
                recorder.recordEcho(roundTripNanoseconds: monotonicNanoseconds() &- slots[index].started, payloadBytes: 0)
                return end(index)
            }
        }

        private mutating func fail(_ index: Int, _ reason: String) {
            recorder.recordError("handshake: \(reason)")
            end(index)
        }

        /// Closes slot `index`'s connection (a reset); the loop opens its next one.
        private mutating func end(_ index: Int) {
            if slots[index].fd >= 0 { close(slots[index].fd) }
            slots[index].fd = -1
            polled[index].fd = -1
        }
    }
}
