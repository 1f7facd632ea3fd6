import SquallReferenceProtocol
import Synchronization

/// The real server's jobs: a ``JobBoard`` on the monotonic clock, whose decisions this carries out — the streams'
/// callbacks, the queue of jobs to run.
///
/// Event loops read it synchronously (the upgrade decision happens on the loop), so it is a `Mutex`, not an actor.
/// Subscriber callbacks run under the lock; they only yield into an `AsyncStream`, which never blocks.
final class JobStore: Sendable {
    /// The board, on the monotonic clock.
    typealias Board = JobBoard<ContinuousClock.Instant>

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
        /// Its first publication.
        var first: Board.Next
    }

    private struct State {
        var board: Board
        var subscribers: [Int: Subscriber] = [:]
    }

    private let state: Mutex<State>
    /// Jobs to run, consumed by ``ReferenceServer/run()``.
    let tickets: AsyncStream<Ticket>
    private let ticketContinuation: AsyncStream<Ticket>.Continuation

    /// A store keeping finished jobs for `retention`.
    init(retention: Duration) {
        self.state = Mutex(State(board: Board(retention: retention)))
        (self.tickets, self.ticketContinuation) = AsyncStream.makeStream()
    }

    /// Creates a job and queues it to run.
    func create(_ creation: JobCreation) -> JobCreation.Created {
        var generator = SystemRandomNumberGenerator()
        let created = JobCreation.Created(
            jobId: "job-" + Self.randomHex(8, using: &generator),
            token: Self.randomHex(16, using: &generator)
        )
        let first = self.state.withLock { state in
            state.board.create(jobId: created.jobId, token: created.token, creation: creation, now: .now)
        }
        self.ticketContinuation.yield(Ticket(jobId: created.jobId, first: first))
        return created
    }

    /// Whether `GET /ws/progress` for `jobId` with `token` may become a stream now (see
    /// ``JobBoard/admitStream(jobId:token:isUpgrade:now:)``).
    func admitStream(jobId: String?, token: String?, isUpgrade: Bool) -> Result<String, ReferenceAPIError> {
        self.state.withLock { $0.board.admitStream(jobId: jobId, token: token, isUpgrade: isUpgrade, now: .now) }
    }

    /// The job's status and every message after `since`, or the refusal.
    func jobState(jobId: String, token: String?, since: Int) -> Result<JobState, ReferenceAPIError> {
        self.state.withLock { $0.board.state(jobId: jobId, token: token, since: since) }
    }

    /// Sends every message after `lastSeq` to `subscriber`, then each new one until the job ends.
    ///
    /// - Returns: the subscription's id for ``unsubscribe(jobId:id:)``, or nil when the job is unknown or already
    ///   finished (its backlog, ending with the final message, was still sent).
    func subscribe(jobId: String, after lastSeq: Int, _ subscriber: Subscriber) -> Int? {
        self.state.withLock { state in
            switch state.board.subscribe(jobId: jobId, after: lastSeq) {
            case .unknownJob:
                return nil
            case .notSubscribed(let replay, let end):
                if !replay.isEmpty { subscriber.replay(Array(replay)) }
                if let end { subscriber.end(end) }
                return nil
            case .subscribed(let id, let replay):
                if !replay.isEmpty { subscriber.replay(Array(replay)) }
                state.subscribers[id] = subscriber
                return id
            }
        }
    }

    /// Stops sending to a subscription.
    func unsubscribe(jobId: String, id: Int) {
        self.state.withLock { state in
            state.board.unsubscribe(jobId: jobId, id: id)
            state.subscribers[id] = nil
        }
    }

    /// Publishes the message for `item` (1-based), stamped `time` (ms since the epoch), to its subscribers.
    ///
    /// - Returns: the message and what is due next, or nil when the job is gone.
    func publish(jobId: String, item: Int, time: Double) -> Board.Publication? {
        self.state.withLock { state -> Board.Publication? in
            guard let publication = state.board.publish(jobId: jobId, item: item, now: .now, timestamp: time) else {
                return nil
            }
            for id in publication.subscribers {
                state.subscribers[id]?.send(publication.message)
            }
            if case .expire = publication.next {
                for id in publication.subscribers { state.subscribers[id] = nil }
            }
            return publication
        }
    }

    /// Forgets a finished job: later requests for it answer 404.
    func expire(jobId: String) {
        self.state.withLock { $0.board.expire(jobId: jobId) }
    }

    /// Ends every subscription and stops queueing jobs.
    func shutDown() {
        self.end(.shutdown) { $0.shutDown() }
        self.ticketContinuation.finish()
    }

    /// Ends every open stream (jobs keep running) and refuses upgrades for `downtime`.
    func restartStreams(downtime: Duration) {
        self.end(.restart) { $0.restartStreams(downtime: downtime, now: .now) }
    }

    /// Ends the subscriptions `decide` names, with `end`, outside the lock.
    private func end(_ end: ProgressStreamEnd, _ decide: (inout Board) -> [Int]) {
        let ending = self.state.withLock { state in
            decide(&state.board).compactMap { state.subscribers.removeValue(forKey: $0) }
        }
        for subscriber in ending {
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
