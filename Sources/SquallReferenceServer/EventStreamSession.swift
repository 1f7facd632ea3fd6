import NIOCore
import NIOHTTP1
import SquallReferenceProtocol
import SquallServices

/// One client's progress stream over Server-Sent Events on a real connection: an ``EventStreamStateMachine`` fed by
/// a keep-alive ticker, the job's subscription and the client's departure, whose actions this session performs as
/// one `text/event-stream` response (chunked on HTTP/1.1), then closes the connection.
struct EventStreamSession: Sendable {
    /// What the session handles at once: one event, or a replay's messages, whose blocks then go out in one write.
    enum Input: Sendable {
        case event(EventStreamStateMachine.Event)
        case replay([ProgressMessage])

        var events: [EventStreamStateMachine.Event] {
            switch self {
            case .event(let event): [event]
            case .replay(let messages): messages.map { .message($0) }
            }
        }
    }

    /// The job streamed.
    let jobId: String
    /// The `Last-Event-ID` the client sent (nil: none).
    let lastEventId: String?
    /// The jobs.
    let store: JobStore
    /// Timings.
    let configuration: ReferenceServerConfiguration
    /// Receives `sse_opened` and `sse_closed`.
    let events: @Sendable (ReferenceServerEvent) -> Void

    /// Serves the stream until the job ends, the server ends it or `inputs` reports the client gone; then ends
    /// the response and closes `channel` (which ends the reading of its requests).
    func serve(
        inputs: AsyncStream<Input>,
        input: AsyncStream<Input>.Continuation,
        version: HTTPVersion,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel
    ) async {
        let origin = ContinuousClock.now
        let now: @Sendable () -> Double = { (ContinuousClock.now - origin).milliseconds }
        var machine = EventStreamStateMachine(
            configuration: self.configuration,
            lastEventId: self.lastEventId,
            now: now()
        )
        var subscription: Int?
        var reason = FailureReason.connectionLost(cause: nil).description
        var ended = false
        await withTaskGroup(of: Void.self) { group in
            let (tick, loop) = (machine.tickInterval, channel.eventLoop)
            group.addTask {
                while (try? await loop.sleep(for: tick)) != nil {
                    input.yield(.event(.tick(now: now())))
                }
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: "Connection", value: "close")
            var body = ByteBuffer()
            /// Performs actions; returns false once the stream is over.
            func perform(_ actions: [EventStreamStateMachine.Action]) -> Bool {
                for action in actions {
                    switch action {
                    case .send(let block):
                        body.writeBytes(block.bytes)
                    case .subscribe(let lastSeq):
                        self.events(
                            ReferenceServerEvent(
                                time: ReferenceServerEvent.now(),
                                jobId: self.jobId,
                                kind: .eventStreamOpened(lastSeq: lastSeq, lastEventId: self.lastEventId)
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
                        if subscription == nil { input.yield(.event(.jobAlreadyEnded)) }
                    case .finish(let why):
                        reason = why
                        ended = true
                        return false
                    }
                }
                return true
            }
            var open = perform(machine.start())
            var batches = inputs.makeAsyncIterator()
            do {
                try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
                loop: while true {
                    if body.readableBytes > 0 {
                        try await outbound.write(.body(.byteBuffer(body)))
                        body.clear()
                    }
                    guard open else { break loop }
                    guard let batch = await batches.next() else { break loop }
                    for event in batch.events where open {
                        open = perform(machine.handle(event))
                    }
                }
                if ended { try await outbound.write(.end(nil)) }
            } catch  where !ended {
                // A write fails when the client has gone: the reader's word on how it went comes next.
                reason = "write failed: \(error)"
                channel.close(promise: nil)
                while let batch = await batches.next() {
                    guard case .event(.peerGone(let why)) = batch else { continue }
                    reason = why
                    break
                }
            } catch {
                // The stream had already ended (the reason is the machine's); only its last bytes were lost.
            }
            input.finish()
            group.cancelAll()
        }
        if let id = subscription {
            self.store.unsubscribe(jobId: self.jobId, id: id)
        }
        self.events(
            ReferenceServerEvent(
                time: ReferenceServerEvent.now(),
                jobId: self.jobId,
                kind: .eventStreamClosed(reason: reason)
            )
        )
        try? await channel.close()
    }
}
