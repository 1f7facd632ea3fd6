import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer

/// The reference server in the simulation: the same ``JobBoard`` (pacing, tokens, admission, subscriptions, the
/// restart window, retention) and the same ``ProgressStreamStateMachine`` per stream as the real one, its decisions
/// carried out on the virtual clock.
final class SimulatedServer {
    /// A stream subscribed to a job, told of each new message and of the server ending it.
    struct Subscriber {
        var message: (ProgressMessage) -> Void
        var end: (ProgressStreamEnd) -> Void
    }

    let configuration: ReferenceServerConfiguration
    private let scheduler: SimulationScheduler
    private let log: SimulationLog
    private var board: JobBoard<VirtualInstant>
    private var subscribers: [Int: Subscriber] = [:]
    /// Where every stream's frames are written to be measured (one buffer for the run, not one per frame).
    var frameWriter = ProtocolJSONWriter()

    init(configuration: ReferenceServerConfiguration, scheduler: SimulationScheduler, log: SimulationLog) {
        self.configuration = configuration
        self.scheduler = scheduler
        self.log = log
        self.board = JobBoard(retention: configuration.retention)
    }

    private var now: VirtualInstant { VirtualInstant(self.scheduler.now) }

    /// Creates a job now, readable with `token`, and runs it as the board paces it.
    func createJob(id: String, token: String, creation: JobCreation) {
        let next = self.board.create(jobId: id, token: token, creation: creation, now: self.now)
        self.log.server(jobId: id, .jobCreated(totalItems: creation.totalItems, itemInterval: creation.itemInterval))
        self.perform(next, jobId: id)
    }

    /// Schedules what is due next for a job.
    private func perform(_ next: JobBoard<VirtualInstant>.Next, jobId: String) {
        switch next {
        case .publish(let item, let due):
            self.scheduler.schedule(at: due.milliseconds) { [self] in self.publish(jobId: jobId, item: item) }
        case .expire(let due):
            self.scheduler.schedule(at: due.milliseconds) { [self] in
                self.board.expire(jobId: jobId)
                self.log.server(jobId: jobId, .jobExpired)
            }
        }
    }

    private func publish(jobId: String, item: Int) {
        guard
            let publication = self.board.publish(jobId: jobId, item: item, now: self.now, timestamp: self.scheduler.now)
        else { return }
        let message = publication.message
        self.log.server(jobId: jobId, .published(seq: message.seq, type: message.type))
        for id in publication.subscribers { self.subscribers[id]?.message(message) }
        if case .expire = publication.next {
            for id in publication.subscribers { self.subscribers[id] = nil }
        }
        self.perform(publication.next, jobId: jobId)
    }

    /// Whether `GET /ws/progress` for `jobId` with `token` becomes a stream now: the job, or the server's refusal.
    func admitStream(jobId: String, token: String?, isUpgrade: Bool) -> Result<String, ReferenceAPIError> {
        self.board.admitStream(jobId: jobId, token: token, isUpgrade: isUpgrade, now: self.now)
    }

    /// `GET /api/job-state/{jobId}?since=N`: the state, logged as served, or the server's refusal.
    func jobState(jobId: String, token: String?, since: Int) -> Result<JobState, ReferenceAPIError> {
        let answer = self.board.state(jobId: jobId, token: token, since: since)
        if case .success(let state) = answer {
            self.log.server(jobId: jobId, .stateServed(since: since, messages: state.messages.count))
        }
        return answer
    }

    /// Sends the job's messages after `lastSeq`, then each new one; returns the subscription (nil when the job has
    /// ended: its backlog, with the final message, was still sent).
    func subscribe(jobId: String, after lastSeq: Int, _ subscriber: Subscriber) -> Int? {
        switch self.board.subscribe(jobId: jobId, after: lastSeq) {
        case .unknownJob:
            return nil
        case .notSubscribed(let replay, let end):
            for message in replay { subscriber.message(message) }
            if let end { subscriber.end(end) }
            return nil
        case .subscribed(let id, let replay):
            for message in replay { subscriber.message(message) }
            self.subscribers[id] = subscriber
            return id
        }
    }

    /// Stops sending to a subscription.
    func unsubscribe(jobId: String, id: Int) {
        self.board.unsubscribe(jobId: jobId, id: id)
        self.subscribers[id] = nil
    }

    /// Ends every open stream with 1012 and refuses upgrades for `downtime`.
    func restartStreams(downtime: Duration) {
        let ending = self.board.restartStreams(downtime: downtime, now: self.now).compactMap {
            self.subscribers.removeValue(forKey: $0)
        }
        for subscriber in ending { subscriber.end(.restart) }
    }
}

extension Duration {
    /// The duration in (virtual) milliseconds, exactly from its components. Not SquallFaults' `milliseconds`, which
    /// goes through seconds and lands a few ulps off (1.1 s gives 1100.0000000000002): events due at the same
    /// virtual instant would then no longer tie, and the order of a run's log would change.
    var simulationMilliseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
