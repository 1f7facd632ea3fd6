import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer

/// The reference server in the simulation: the same ``JobProgress`` per job and the same
/// ``ProgressStreamStateMachine`` per stream as the real one, on the virtual clock.
final class SimulatedServer {
    /// A stream subscribed to a job, told of each new message and of the server ending it.
    struct Subscriber {
        var message: (ProgressMessage) -> Void
        var end: (ProgressStreamEnd) -> Void
    }

    let configuration: ReferenceServerConfiguration
    private let scheduler: SimulationScheduler
    private let log: SimulationLog
    private var jobs: [String: JobProgress] = [:]
    private var subscribers: [String: [Int: Subscriber]] = [:]
    private var nextSubscriber = 0
    /// Until then (virtual ms), upgrades are refused with 503: a restart of the WebSocket side.
    private var streamsDownUntil: Double = -1

    init(configuration: ReferenceServerConfiguration, scheduler: SimulationScheduler, log: SimulationLog) {
        self.configuration = configuration
        self.scheduler = scheduler
        self.log = log
    }

    /// Creates a job now and publishes its items on schedule (item `n` at `n` × its interval).
    func createJob(id: String, creation: JobCreation) {
        self.jobs[id] = JobProgress(jobId: id, creation: creation)
        self.log.server(jobId: id, .jobCreated(totalItems: creation.totalItems, itemInterval: creation.itemInterval))
        let start = self.scheduler.now
        let interval = creation.itemInterval.simulationMilliseconds
        self.publish(jobId: id, item: 1, at: start + interval, interval: interval, start: start)
    }

    /// Publishes one item, then schedules the next (deadline-based, as the real server).
    private func publish(jobId: String, item: Int, at time: Double, interval: Double, start: Double) {
        self.scheduler.schedule(at: time) { [self] in
            guard var job = self.jobs[jobId], let message = job.publish(item: item, time: self.scheduler.now) else {
                return
            }
            self.jobs[jobId] = job
            self.log.server(jobId: jobId, .published(seq: message.seq, type: message.type))
            if let subscribers = self.subscribers[jobId] {
                if subscribers.count == 1 {
                    subscribers.first!.value.message(message)
                } else {
                    for id in subscribers.keys.sorted() { subscribers[id]!.message(message) }
                }
            }
            if message.isFinal {
                self.subscribers[jobId] = nil
            } else {
                self.publish(
                    jobId: jobId,
                    item: item + 1,
                    at: start + interval * Double(item + 1),
                    interval: interval,
                    start: start
                )
            }
        }
    }

    /// The status an upgrade for `jobId` gets now: 101, 404 for an unknown job, 503 while streams restart.
    func upgradeStatus(jobId: String) -> Int {
        guard self.jobs[jobId] != nil else { return 404 }
        return self.scheduler.now < self.streamsDownUntil ? 503 : 101
    }

    /// `GET /api/job-state/{jobId}?since=N`: the state, logged as served; nil for an unknown job (404).
    func jobState(jobId: String, since: Int) -> JobState? {
        guard let state = self.jobs[jobId]?.state(since: since) else { return nil }
        self.log.server(jobId: jobId, .stateServed(since: since, messages: state.messages.count))
        return state
    }

    /// Sends the job's messages after `lastSeq`, then each new one; returns the subscription (nil when the job has
    /// ended: its backlog, with the final message, was still sent).
    func subscribe(jobId: String, after lastSeq: Int, _ subscriber: Subscriber) -> Int? {
        guard let job = self.jobs[jobId] else { return nil }
        for message in job.messages(after: lastSeq) { subscriber.message(message) }
        guard job.status == .running else { return nil }
        self.nextSubscriber += 1
        self.subscribers[jobId, default: [:]][self.nextSubscriber] = subscriber
        return self.nextSubscriber
    }

    /// Stops sending to a subscription.
    func unsubscribe(jobId: String, id: Int) {
        self.subscribers[jobId]?[id] = nil
    }

    /// Ends every open stream with 1012 and refuses upgrades for `downtime` (virtual ms).
    func restartStreams(downtime: Double) {
        self.streamsDownUntil = self.scheduler.now + downtime
        let ending = self.subscribers.keys.sorted().flatMap { job in
            (self.subscribers[job] ?? [:]).sorted(by: { $0.key < $1.key }).map(\.value)
        }
        self.subscribers = [:]
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
