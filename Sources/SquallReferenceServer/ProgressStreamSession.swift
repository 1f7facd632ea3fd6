import Foundation
import NIOCore
import NIOWebSocket
import SquallReferenceProtocol
import SquallServices

/// One client's WebSocket progress stream over a real socket: a ``ProgressStreamStateMachine`` fed by the client's
/// frames, a keep-alive ticker and the job's subscription, whose actions this session performs.
///
/// A reader task and a ticker feed one input stream; the session's loop alone runs the machine and writes to the
/// socket, so nothing is shared but that stream.
struct ProgressStreamSession: Sendable {
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
        // Events come in batches (a replay is one); the frames a batch produces go out in one write.
        let (inputs, input) = AsyncStream<Batch>.makeStream()
        // The machine's keep-alive clock: milliseconds since the stream opened, on the monotonic clock.
        let origin = ContinuousClock.now
        let now: @Sendable () -> Double = { (ContinuousClock.now - origin).milliseconds }
        let reason: String
        var subscription: Int?
        do {
            (reason, subscription) = try await channel.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Void.self) { group -> (String, Int?) in
                    var subscription: Int?
                    var machine = ProgressStreamStateMachine(configuration: self.configuration, now: now())
                    let (tick, loop) = (machine.tickInterval, channel.channel.eventLoop)
                    group.addTask { await Self.read(inbound, into: input, now: now) }
                    group.addTask {
                        while (try? await loop.sleep(for: tick)) != nil {
                            input.yield(.event(.tick(now: now())))
                        }
                    }
                    var reason = FailureReason.connectionLost(cause: nil).description
                    loop: for await batch in inputs {
                        var frames: [WebSocketFrame] = []
                        for event in batch {
                            for action in machine.handle(event) {
                                if case .send(let frame) = action {
                                    frames.append(Self.frame(frame, jobId: self.jobId))
                                    continue
                                }
                                // Any other action comes after the frames before it are out.
                                if let failure = await Self.write(&frames, to: outbound) {
                                    reason = failure
                                    break loop
                                }
                                switch action {
                                case .send:
                                    continue
                                case .subscribe(let lastSeq):
                                    self.events(
                                        ReferenceServerEvent(
                                            time: ReferenceServerEvent.now(),
                                            jobId: self.jobId,
                                            kind: .streamOpened(lastSeq: lastSeq)
                                        )
                                    )
                                    subscription = self.store.subscribe(
                                        jobId: self.jobId,
                                        after: lastSeq,
                                        JobStore.Subscriber(
                                            replay: { input.yield(.replay($0)) },
                                            send: { input.yield(.event(.message($0))) },
                                            end: { input.yield(.event(.serverEnded($0))) }
                                        )
                                    )
                                case .startCloseTimer:
                                    let timeout = self.configuration.closeTimeout
                                    group.addTask {
                                        try? await loop.sleep(for: timeout)
                                        input.yield(.event(.closeTimedOut))
                                    }
                                case .finish(let why):
                                    reason = why
                                    break loop
                                }
                            }
                        }
                        if let failure = await Self.write(&frames, to: outbound) {
                            reason = failure
                            break loop
                        }
                    }
                    input.finish()
                    group.cancelAll()
                    return (reason, subscription)
                }
            }
        } catch {
            reason = "close failed: \(error)"
        }
        if let id = subscription {
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

    /// What the session handles at once: one event from the reader, the ticker or the job, or a replay's messages,
    /// whose frames then go out in one write.
    private enum Batch: RandomAccessCollection, Sendable {
        case event(ProgressStreamStateMachine.Event)
        case replay([ProgressMessage])

        var startIndex: Int { 0 }

        var endIndex: Int {
            switch self {
            case .event: 1
            case .replay(let messages): messages.count
            }
        }

        subscript(position: Int) -> ProgressStreamStateMachine.Event {
            switch self {
            case .event(let event): event
            case .replay(let messages): .message(messages[position])
            }
        }
    }

    /// Writes `frames` in one write (one flush) and empties them.
    ///
    /// - Returns: why the write failed, or nil.
    private static func write(
        _ frames: inout [WebSocketFrame],
        to outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    ) async -> String? {
        guard !frames.isEmpty else { return nil }
        defer { frames.removeAll(keepingCapacity: true) }
        do {
            try await outbound.write(contentsOf: frames)
            return nil
        } catch {
            return "write failed: \(error)"
        }
    }

    /// Feeds the client's frames to the session until its side ends.
    private static func read(
        _ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
        into input: AsyncStream<Batch>.Continuation,
        now: @Sendable () -> Double
    ) async {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    input.yield(.event(.text(String(buffer: frame.unmaskedData))))
                case .ping:
                    input.yield(.event(.ping(payload: Array(frame.unmaskedData.readableBytesView))))
                case .pong:
                    input.yield(.event(.pong(now: now())))
                case .connectionClose:
                    var data = frame.unmaskedData
                    input.yield(.event(.peerClose(code: data.readInteger(as: UInt16.self).map(Int.init))))
                    return
                default:
                    continue
                }
            }
            input.yield(.event(.peerGone(reason: FailureReason.clientDisconnected.description)))
        } catch {
            let cause = FailureReason.cause(of: error)
            input.yield(.event(.peerGone(reason: FailureReason.connectionLost(cause: cause).description)))
        }
    }

    private static func frame(_ frame: ProgressStreamStateMachine.Frame, jobId: String) -> WebSocketFrame {
        let data = ByteBuffer(bytes: frame.payload(jobId: jobId))
        switch frame {
        case .readyAck, .message: return WebSocketFrame(fin: true, opcode: .text, data: data)
        case .ping: return WebSocketFrame(fin: true, opcode: .ping, data: data)
        case .pong: return WebSocketFrame(fin: true, opcode: .pong, data: data)
        case .close: return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        }
    }
}
