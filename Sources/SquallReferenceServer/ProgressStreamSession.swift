import Foundation
import NIOCore
import NIOWebSocket
import SquallReferenceProtocol
import Synchronization

/// One client's WebSocket progress stream: waits for `ready`, answers `ready_ack`, sends every message after the
/// client's `lastSeq` and then live ones, pings on an interval, and closes with 1000 after the job's last message.
///
/// Three tasks share one outgoing queue: the reader (handshake, pongs, the client's close), the pinger (pings and
/// the pong and ready timeouts) and the writer (this function's body), which alone writes to the socket.
struct ProgressStreamSession: Sendable {
    /// What the writer sends next.
    private enum Outgoing: Sendable {
        case readyAck(lastSeq: Int)
        case message(ProgressMessage)
        case ping
        case pong(ByteBuffer)
        case close(code: WebSocketErrorCode, reason: String)
        case peerClosed(code: WebSocketErrorCode?)
        case ended(String)
    }

    /// What the three tasks of a session share.
    private final class Liveness: Sendable {
        /// Whether the client's `ready` arrived.
        let isReady = Atomic(false)
        /// When the last pong arrived (or the stream opened).
        let lastPong = Mutex(ContinuousClock.now)
        /// The job subscription, once subscribed.
        let subscription = Mutex<Int?>(nil)
    }

    /// The job streamed.
    let jobId: String
    /// The jobs.
    let store: JobStore
    /// Timings.
    let configuration: ReferenceServerConfiguration
    /// Receives `stream_opened` and `stream_closed`.
    let events: @Sendable (ReferenceServerEvent) -> Void

    /// Serves the stream until the job ends, the client leaves or a timeout closes it.
    func serve(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async {
        let (outgoing, queue) = AsyncStream<Outgoing>.makeStream()
        let liveness = Liveness()
        let reason: String
        do {
            reason = try await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await self.read(inbound, queue: queue, liveness: liveness)
                    }
                    group.addTask {
                        await self.keepAlive(queue: queue, liveness: liveness)
                    }
                    let reason = await self.write(outgoing, to: outbound, queue: queue)
                    group.cancelAll()
                    return reason
                }
            }
        } catch {
            reason = "close failed: \(error)"
        }
        queue.finish()
        if let id = liveness.subscription.withLock({ $0 }) {
            self.store.unsubscribe(jobId: self.jobId, id: id)
        }
        self.events(
            ReferenceServerEvent(
                time: ReferenceServerEvent.now(),
                jobId: self.jobId,
                kind: .streamClosed(reason: reason)
            )
        )
    }
}

extension ProgressStreamSession {
    /// Writes queued items until the stream is over; returns why it ended.
    private func write(
        _ outgoing: AsyncStream<Outgoing>,
        to outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
        queue: AsyncStream<Outgoing>.Continuation
    ) async -> String {
        var iterator = outgoing.makeAsyncIterator()
        var reason = "connection lost"
        do {
            writing: while let item = await iterator.next() {
                switch item {
                case .readyAck(let lastSeq):
                    try await outbound.write(Self.text(HandshakeMessage.readyAck(jobId: self.jobId, lastSeq: lastSeq)))
                case .message(let message):
                    try await outbound.write(Self.text(message))
                    if message.isFinal {
                        reason = "job \(message.type == .complete ? "completed" : "failed")"
                        try await outbound.write(Self.close(.normalClosure, reason))
                        break writing
                    }
                case .ping:
                    try await outbound.write(
                        WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "squall"))
                    )
                case .pong(let data):
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: data))
                case .close(let code, let text):
                    reason = text
                    try await outbound.write(Self.close(code, text))
                    break writing
                case .peerClosed(let code):
                    reason = "client closed" + (code.map { " (\(Self.number(of: $0)))" } ?? "")
                    try await outbound.write(Self.close(code ?? .normalClosure, ""))
                    return reason
                case .ended(let why):
                    return why
                }
            }
        } catch {
            return "write failed: \(error)"
        }
        // Our close is out: wait (bounded) for the client's close or EOF.
        let closeTimeout = self.configuration.closeTimeout
        let timer = Task {
            try? await Task.sleep(for: closeTimeout)
            queue.yield(.ended("close timeout"))
        }
        defer { timer.cancel() }
        while let item = await iterator.next() {
            switch item {
            case .peerClosed, .ended: return reason
            case .readyAck, .message, .ping, .pong, .close: continue
            }
        }
        return reason
    }

    /// Reads the client's frames: `ready` (then subscribes), pings, pongs and its close.
    private func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        queue: AsyncStream<Outgoing>.Continuation,
        liveness: Liveness
    ) async {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text where !liveness.isReady.load(ordering: .relaxed):
                    let text = String(buffer: frame.unmaskedData)
                    guard let ready = try? ProtocolJSON.decode(HandshakeMessage.self, from: text.utf8),
                        ready.type == .ready,
                        ready.lastSeq >= 0
                    else {
                        // Keep reading: the client's close (or EOF) ends the session without waiting out the timeout.
                        queue.yield(
                            .close(code: .policyViolation, reason: "expected {\"type\":\"ready\",\"lastSeq\":N} first")
                        )
                        continue
                    }
                    liveness.isReady.store(true, ordering: .relaxed)
                    queue.yield(.readyAck(lastSeq: ready.lastSeq))
                    self.events(
                        ReferenceServerEvent(
                            time: ReferenceServerEvent.now(),
                            jobId: self.jobId,
                            kind: .streamOpened(lastSeq: ready.lastSeq)
                        )
                    )
                    let subscriber = JobStore.Subscriber(
                        send: { queue.yield(.message($0)) },
                        end: { end in
                            switch end {
                            case .shutdown: queue.yield(.close(code: .goingAway, reason: "server shutting down"))
                            case .restart:
                                queue.yield(
                                    .close(code: WebSocketErrorCode(codeNumber: 1012), reason: "service restart")
                                )
                            }
                        }
                    )
                    let id = self.store.subscribe(jobId: self.jobId, after: ready.lastSeq, subscriber)
                    liveness.subscription.withLock { $0 = id }
                case .ping:
                    queue.yield(.pong(frame.unmaskedData))
                case .pong:
                    liveness.lastPong.withLock { $0 = ContinuousClock.now }
                case .connectionClose:
                    var data = frame.unmaskedData
                    queue.yield(.peerClosed(code: data.readWebSocketErrorCode()))
                    return
                default:
                    continue
                }
            }
            queue.yield(.ended("client disconnected"))
        } catch {
            queue.yield(.ended("connection lost: \(error)"))
        }
    }

    /// Pings every interval; closes a stream that sent no `ready` in time or answered no ping for the pong timeout.
    private func keepAlive(queue: AsyncStream<Outgoing>.Continuation, liveness: Liveness) async {
        let opened = ContinuousClock.now
        let tick = min(self.configuration.pingInterval, self.configuration.readyTimeout)
        var nextPing = opened + self.configuration.pingInterval
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            let now = ContinuousClock.now
            if !liveness.isReady.load(ordering: .relaxed), now - opened >= self.configuration.readyTimeout {
                queue.yield(
                    .close(
                        code: .policyViolation,
                        reason: "no ready within \(IntervalText.format(self.configuration.readyTimeout))"
                    )
                )
                return
            }
            if now - liveness.lastPong.withLock({ $0 }) >= self.configuration.pongTimeout {
                queue.yield(.close(code: .goingAway, reason: "pong timeout"))
                return
            }
            if now >= nextPing {
                queue.yield(.ping)
                nextPing = now + self.configuration.pingInterval
            }
        }
    }

    private static func text(_ value: some Encodable) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: ProtocolJSON.encode(value)))
    }

    private static func close(_ code: WebSocketErrorCode, _ reason: String) -> WebSocketFrame {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        data.writeString(String(decoding: reason.utf8.prefix(120), as: UTF8.self))
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    private static func number(of code: WebSocketErrorCode) -> Int {
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: code)
        return Int(buffer.readInteger(as: UInt16.self) ?? 0)
    }
}
