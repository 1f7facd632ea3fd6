import SquallReferenceProtocol

/// Every job the reference server knows, as a value: the jobs' progress and pace, their tokens, the streams
/// subscribed to them, the restart window and retention. It decides; it performs nothing.
///
/// The real server's ``JobStore`` keeps one on the monotonic clock and carries its decisions out on sockets and
/// timers; Squall's simulator keeps one on its virtual clock. So both pace jobs, admit upgrades, replay, fan out,
/// restart and forget jobs by the same rules, and refuse with the same words.
package struct JobBoard<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    /// What is due next for a job.
    package enum Next: Sendable, Equatable {
        /// Publish item `item` (1-based) at `at` (deadline-based: a late publication does not delay the next).
        case publish(item: Int, at: Instant)
        /// Forget the finished job at `at` (its retention is over): later requests for it answer 404.
        case expire(at: Instant)
    }

    /// One published message and who gets it.
    package struct Publication: Sendable {
        /// The message.
        package var message: ProgressMessage
        /// The subscriptions to send it to, oldest first.
        package var subscribers: [Int]
        /// What is due next for the job.
        package var next: Next
    }

    /// What subscribing came to.
    package enum Subscription: Sendable, Equatable {
        /// Subscribed as `id`: send `replay` (the messages after the stream's `lastSeq`) first, in one write.
        case subscribed(id: Int, replay: ArraySlice<ProgressMessage>)
        /// Not subscribed: send `replay`, then end the stream with `end` (a server shutting down), or leave it to
        /// the client when `end` is nil (the job has finished; its final message is in `replay`).
        case notSubscribed(replay: ArraySlice<ProgressMessage>, end: ProgressStreamEnd?)
        /// No such job.
        case unknownJob
    }

    /// Whether a token may read a job.
    package enum Access: Sendable, Equatable {
        /// The token is the job's.
        case granted
        /// The token is missing or not the job's (also for an unknown job, so ids cannot be probed).
        case unauthorized
        /// The token is one this server issued, but for no job by this id (unknown or expired).
        case notFound
    }

    /// A job as the server holds it.
    private struct Job: Sendable {
        var token: String
        var progress: JobProgress
        /// When it was created: item `n` is due `n` intervals after.
        var start: Instant
        /// Its streams' subscriptions, oldest first (ids only grow).
        var subscribers: [Int] = []
    }

    /// How long a finished job is kept for polling and late streams.
    package let retention: Duration
    private var jobs: [String: Job] = [:]
    /// Every token issued, with its job, kept after the job expires so its holder gets 404, not 401.
    private var tokens: [String: String] = [:]
    private var nextSubscriber = 0
    private var isShutDown = false
    /// Until then, WebSocket upgrades are refused with 503 (a restart in progress).
    private var streamsDownUntil: Instant?

    /// An empty board keeping finished jobs for `retention`.
    package init(retention: Duration) {
        self.retention = retention
    }

    /// Creates job `jobId`, readable with `token`, at `now`.
    ///
    /// - Returns: its first publication.
    package mutating func create(jobId: String, token: String, creation: JobCreation, now: Instant) -> Next {
        self.jobs[jobId] = Job(token: token, progress: JobProgress(jobId: jobId, creation: creation), start: now)
        self.tokens[token] = jobId
        return .publish(item: 1, at: now.advanced(by: creation.itemInterval))
    }

    /// Publishes the message for `item` at `now`, stamped `timestamp` (ms since the epoch, or virtual ms).
    ///
    /// - Returns: the message, its subscribers and what is due next; nil when the job is gone or has ended.
    package mutating func publish(jobId: String, item: Int, now: Instant, timestamp: Double) -> Publication? {
        // In place: a copy of the job would copy its messages on every publication.
        guard let index = self.jobs.index(forKey: jobId),
            let message = self.jobs.values[index].progress.publish(item: item, time: timestamp)
        else { return nil }
        let subscribers = self.jobs.values[index].subscribers
        let next: Next
        if message.isFinal {
            self.jobs.values[index].subscribers = []
            next = .expire(at: now.advanced(by: self.retention))
        } else {
            // Read in place: a copy of the job would retain its messages and subscribers for every publication.
            let interval = self.jobs.values[index].progress.creation.itemInterval
            next = .publish(item: item + 1, at: self.jobs.values[index].start.advanced(by: interval * (item + 1)))
        }
        return Publication(message: message, subscribers: subscribers, next: next)
    }

    /// Forgets a finished job: later requests for it answer 404.
    package mutating func expire(jobId: String) {
        self.jobs[jobId] = nil
    }

    /// Whether `token` may read `jobId`.
    package func access(jobId: String, token: String?) -> Access {
        guard let token, let owner = self.tokens[token] else { return .unauthorized }
        if owner == jobId, self.jobs[jobId] != nil { return .granted }
        return self.jobs[jobId] == nil ? .notFound : .unauthorized
    }

    /// Whether `GET /ws/progress?jobId=…` may become a stream at `now`: the job for a WebSocket upgrade that may,
    /// else the refusal, checked in this order — the job id, the token, the restart window, the upgrade itself
    /// (`426` for a request without one, as when a proxy stripped it).
    package func admitStream(
        jobId: String?,
        token: String?,
        isUpgrade: Bool,
        now: Instant
    ) -> Result<
        String, ReferenceAPIError
    > {
        guard let jobId, !jobId.isEmpty else { return .failure(.badRequest("missing query parameter 'jobId'")) }
        if let refusal = self.refusal(jobId: jobId, token: token) { return .failure(refusal) }
        if let until = self.streamsDownUntil, now < until {
            return .failure(
                .serviceUnavailable(
                    "the streaming side (WebSocket and event streams) is restarting; retry shortly or poll"
                )
            )
        }
        return isUpgrade ? .success(jobId) : .failure(.upgradeRequired)
    }

    /// `GET /api/job-state/{jobId}?since=N`: the job's status and every message after `since`, or the refusal.
    package func state(jobId: String, token: String?, since: Int) -> Result<JobState, ReferenceAPIError> {
        if let refusal = self.refusal(jobId: jobId, token: token) { return .failure(refusal) }
        guard let job = self.jobs[jobId] else { return .failure(.notFound(Self.unknownJob(jobId))) }
        return .success(job.progress.state(since: since))
    }

    /// The job's state without a token check, for the scenario runner reading its own server.
    package func state(jobId: String, since: Int) -> JobState? {
        self.jobs[jobId]?.progress.state(since: since)
    }

    /// Subscribes a stream to `jobId` from after `lastSeq`.
    package mutating func subscribe(jobId: String, after lastSeq: Int) -> Subscription {
        guard let index = self.jobs.index(forKey: jobId) else { return .unknownJob }
        let progress = self.jobs.values[index].progress
        let replay = progress.messages(after: lastSeq)
        guard progress.status == .running else { return .notSubscribed(replay: replay, end: nil) }
        guard !self.isShutDown else { return .notSubscribed(replay: replay, end: .shutdown) }
        let id = self.nextSubscriber
        self.nextSubscriber += 1
        self.jobs.values[index].subscribers.append(id)
        return .subscribed(id: id, replay: replay)
    }

    /// Stops sending to a subscription.
    package mutating func unsubscribe(jobId: String, id: Int) {
        guard let index = self.jobs[jobId]?.subscribers.firstIndex(of: id) else { return }
        self.jobs[jobId]?.subscribers.remove(at: index)
    }

    /// Restarts the WebSocket side at `now`: upgrades are refused for `downtime`; jobs keep running.
    ///
    /// - Returns: the subscriptions to end with ``ProgressStreamEnd/restart``, by job id then age.
    package mutating func restartStreams(downtime: Duration, now: Instant) -> [Int] {
        self.streamsDownUntil = now.advanced(by: downtime)
        return self.endAllStreams()
    }

    /// Shuts the server down: no stream subscribes any more.
    ///
    /// - Returns: the subscriptions to end with ``ProgressStreamEnd/shutdown``, by job id then age.
    package mutating func shutDown() -> [Int] {
        self.isShutDown = true
        return self.endAllStreams()
    }

    private mutating func endAllStreams() -> [Int] {
        var ending: [Int] = []
        for jobId in self.jobs.keys.sorted() where !(self.jobs[jobId]?.subscribers.isEmpty ?? true) {
            ending += self.jobs[jobId]?.subscribers ?? []
            self.jobs[jobId]?.subscribers = []
        }
        return ending
    }

    /// Why `token` may not read `jobId`, or nil when it may.
    private func refusal(jobId: String, token: String?) -> ReferenceAPIError? {
        switch self.access(jobId: jobId, token: token) {
        case .granted: nil
        case .unauthorized: .unauthorized
        case .notFound: .notFound(Self.unknownJob(jobId))
        }
    }

    private static func unknownJob(_ jobId: String) -> String {
        "no job '\(jobId)' (finished jobs are kept for the server's retention, then forgotten)"
    }
}
