import SquallReferenceProtocol
import Synchronization

/// Every job the server knows: its messages (kept for polling and replay), its status and the WebSocket streams
/// subscribed to it.
///
/// Event loops read it synchronously (the upgrade decision happens on the loop), so it is a `Mutex`, not an actor.
/// Subscriber callbacks run under the lock; they only yield into an `AsyncStream`, which never blocks.
final class JobStore: Sendable {
    /// A job as the server holds it.
    private struct Job {
        let token: String
        var progress: JobProgress
        var subscribers: [Int: Subscriber] = [:]
    }

    /// A WebSocket stream receiving a job's messages.
    struct Subscriber: Sendable {
        /// Called once, on subscribing, with every message after the subscriber's `lastSeq` (when there are any), so
        /// a replay can go out as one write.
        var replay: @Sendable ([ProgressMessage]) -> Void
        /// Called with each new message, in `seq` order.
        var send: @Sendable (ProgressMessage) -> Void
        /// Called when the server ends the stream while the job still runs.
        var end: @Sendable (ProgressStreamEnd) -> Void
    }

    /// A job waiting for the server to run it.
    struct Ticket: Sendable {
        /// The job.
        var jobId: String
        /// Its item count and pace.
        var creation: JobCreation
    }

    /// Whether a token may read a job.
    enum Access: Equatable {
        /// The token is the job's.
        case granted
        /// The token is missing or not the job's (also for an unknown job, so ids cannot be probed).
        case unauthorized
        /// The token is one this server issued, but for no job by this id (unknown or expired).
        case notFound
    }

    private struct State {
        var jobs: [String: Job] = [:]
        /// Every token issued, with its job, kept after the job expires so its holder gets 404, not 401.
        var tokens: [String: String] = [:]
        var nextSubscriber = 0
        var isShutDown = false
        /// Until then, WebSocket upgrades are refused (a restart in progress).
        var streamsDownUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    /// Jobs to run, consumed by ``ReferenceServer/run()``.
    let tickets: AsyncStream<Ticket>
    private let ticketContinuation: AsyncStream<Ticket>.Continuation

    init() {
        (self.tickets, self.ticketContinuation) = AsyncStream.makeStream()
    }

    /// Creates a job and queues it to run.
    func create(_ creation: JobCreation) -> JobCreation.Created {
        var generator = SystemRandomNumberGenerator()
        let created = JobCreation.Created(
            jobId: "job-" + Self.randomHex(8, using: &generator),
            token: Self.randomHex(16, using: &generator)
        )
        self.state.withLock { state in
            state.jobs[created.jobId] = Job(
                token: created.token,
                progress: JobProgress(jobId: created.jobId, creation: creation)
            )
            state.tokens[created.token] = created.jobId
        }
        self.ticketContinuation.yield(Ticket(jobId: created.jobId, creation: creation))
        return created
    }

    /// Whether `token` may read `jobId`.
    func access(jobId: String, token: String?) -> Access {
        self.state.withLock { state in
            guard let token, let owner = state.tokens[token] else { return .unauthorized }
            if owner == jobId, state.jobs[jobId] != nil { return .granted }
            return state.jobs[jobId] == nil ? .notFound : .unauthorized
        }
    }

    /// The job's status and every message after `since`, or nil for an unknown job.
    func jobState(jobId: String, since: Int) -> JobState? {
        self.state.withLock { state in state.jobs[jobId]?.progress.state(since: since) }
    }

    /// Sends every message after `lastSeq` to `subscriber`, then each new one until the job ends.
    ///
    /// - Returns: the subscription's id for ``unsubscribe(jobId:id:)``, or nil when the job is unknown or already
    ///   finished (its backlog, ending with the final message, was still sent).
    func subscribe(jobId: String, after lastSeq: Int, _ subscriber: Subscriber) -> Int? {
        self.state.withLock { state in
            guard var job = state.jobs[jobId] else { return nil }
            let replay = job.progress.messages(after: lastSeq)
            if !replay.isEmpty { subscriber.replay(Array(replay)) }
            guard job.progress.status == .running, !state.isShutDown else {
                if job.progress.status == .running { subscriber.end(.shutdown) }
                return nil
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            job.subscribers[id] = subscriber
            state.jobs[jobId] = job
            return id
        }
    }

    /// Stops sending to a subscription.
    func unsubscribe(jobId: String, id: Int) {
        self.state.withLock { state in
            _ = state.jobs[jobId]?.subscribers.removeValue(forKey: id)
        }
    }

    /// Publishes the message for `item` (1-based): `progress`, or `complete` for the last item, or `error` at the
    /// job's `failAfterItems`.
    ///
    /// - Returns: the message, or nil when the job is gone.
    func publish(jobId: String, item: Int, time: Double) -> ProgressMessage? {
        self.state.withLock { state -> ProgressMessage? in
            guard var job = state.jobs[jobId], let message = job.progress.publish(item: item, time: time) else {
                return nil
            }
            for subscriber in job.subscribers.values {
                subscriber.send(message)
            }
            if message.isFinal { job.subscribers = [:] }
            state.jobs[jobId] = job
            return message
        }
    }

    /// Forgets a finished job: later requests for it answer 404.
    func expire(jobId: String) {
        self.state.withLock { state in
            _ = state.jobs.removeValue(forKey: jobId)
        }
    }

    /// Ends every subscription and stops queueing jobs.
    func shutDown() {
        self.endStreams(.shutdown)
        self.ticketContinuation.finish()
    }

    /// Ends every open stream (jobs keep running) and refuses upgrades for `downtime`.
    func restartStreams(downtime: Duration) {
        self.state.withLock { $0.streamsDownUntil = ContinuousClock.now + downtime }
        self.endStreams(.restart)
    }

    /// Whether upgrades are refused now because the WebSocket side is restarting.
    var streamsAreDown: Bool {
        self.state.withLock { state in
            guard let until = state.streamsDownUntil else { return false }
            return ContinuousClock.now < until
        }
    }

    private func endStreams(_ end: ProgressStreamEnd) {
        let subscribers = self.state.withLock { state in
            if end == .shutdown { state.isShutDown = true }
            defer {
                for id in state.jobs.keys { state.jobs[id]?.subscribers = [:] }
            }
            return state.jobs.values.flatMap { $0.subscribers.values }
        }
        for subscriber in subscribers {
            subscriber.end(end)
        }
    }

    private static func randomHex(_ bytes: Int, using generator: inout SystemRandomNumberGenerator) -> String {
        var text = ""
        for _ in 0..<bytes {
            let hex = String(UInt8.random(in: 0...255, using: &generator), radix: 16)
            text += hex.count == 1 ? "0" + hex : hex
        }
        return text
    }
}
