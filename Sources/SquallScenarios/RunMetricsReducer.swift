import SquallFaults
import SquallReferenceClient
import SquallReferenceServer

/// The metrics of a run computed as its events arrive, one instant at a time, in one pass: what it keeps grows with
/// the clients, the jobs' messages and the timeline's steps, never with the events (a million-client simulation is
/// not held to be read again). ``RunAnalysis`` feeds it; ``RunMetrics/init(events:)`` is a whole log fed so.
package struct RunMetricsReducer: Sendable {
    /// What a client's metrics need to remember between its events.
    private struct ClientTally: Sendable {
        /// Its connect attempt awaiting an answer (log time).
        var pendingAttempt: Double?
        /// The sequence numbers it received.
        var seen = SequenceSet()
        /// Since when it has been without the WebSocket it lost (log time).
        var openSince: Double?
        /// Since when it has been without an open WebSocket and not yet polling (its start, or the loss of its
        /// WebSocket); nil while connected or polling.
        var failingSince: Double?
        /// The first lift (a fault lifted, a blackout ended) that found it polling, until it connects.
        var pollingSinceLift: Double?
        /// Messages of another job it received.
        var crossJob = 0
        /// The highest sequence number it delivered.
        var highestDelivered = 0
        /// Whether its open link is an event stream.
        var onEventStream = false
        /// When it lost an open event stream and the highest sequence number it had then, until a new message comes
        /// over an event stream again.
        var eventStreamLost: (at: Double, highest: Int)?
        /// Whether an event ended it (else it ends with the log).
        var ended = false
    }

    private let clock: ScenarioClock
    private var start: Double?
    private var end: Double = 0
    private var faultEvents = 0
    private var faultEventTimes: [Double] = []
    private var notInjected: [String] = []
    private var notInjectedTimes: [Double] = []
    /// Each applied fault's type, by name.
    private var appliedTypes: [String: String] = [:]
    /// Each job's publications.
    private var published: [String: PublicationTimes] = [:]
    /// Each client's place in ``outcomes``, in the order the log first named them.
    private var index: [String: Int] = [:]
    /// Each job's client, by place (the reference system gives every client a job of its own).
    private var jobClients: [String: Int] = [:]
    /// Whether a client had an event stream (or the server opened one): the event-stream metrics are reported.
    private var sawEventStreams = false
    private var outcomes: [ClientOutcome] = []
    private var tallies: [ClientTally] = []
    /// The clients polling now (by place).
    private var polling: Set<Int> = []
    /// The moments WebSocket was given back and not yet reached, ascending: each fault lifted during the run, and
    /// the end of each handoff's blackout. A client polling at one of them is timed until it has a WebSocket again.
    private var lifts: [Double] = []
    private var steps: StepObserver

    /// A reducer that has seen nothing yet, for a run played on `clock` that plans `expectedClients` clients.
    package init(clock: ScenarioClock, expectedClients: Int = 0) {
        self.clock = clock
        self.steps = StepObserver(clock: clock)
        self.outcomes.reserveCapacity(expectedClients)
        self.tallies.reserveCapacity(expectedClients)
        self.index.reserveCapacity(expectedClients)
    }

    /// Reads the events of one instant (one time, in log order): first the lifts at it, then each event.
    package mutating func add(instant events: ArraySlice<LoggedEvent>) {
        guard let time = events.first?.time else { return }
        if self.start == nil { self.start = time }
        self.end = time
        for record in events {
            guard case .run(let event) = record.event else { continue }
            switch event {
            case .faultLifted(_, _, let healing):
                if !healing { self.lift(at: time) }
            case .handoff(_, _, _, let blackout, _, _, _):
                let length = Duration(parsing: blackout) ?? .zero
                self.lift(at: time + self.clock.played(milliseconds: length.milliseconds))
            case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
                .clientKilled, .clientOutputMalformed, .faultApplied, .faultNotApplied, .profile, .clientsSuspended,
                .serverRestart, .serverStarted, .serverReady, .serverExited, .publicationsUnknown, .harnessLag,
                .runEnded:
                continue
            }
        }
        while let lift = self.lifts.first, lift <= time {
            self.lifts.removeFirst()
            for place in self.polling where self.tallies[place].pollingSinceLift == nil {
                self.tallies[place].pollingSinceLift = lift
                self.outcomes[place].pollingAtALift = true
                if self.outcomes[place].pollingAtLiftSince == nil { self.outcomes[place].pollingAtLiftSince = lift }
            }
        }
        for record in events { self.read(record) }
        self.steps.add(instant: events)
    }

    private mutating func lift(at time: Double) {
        let index = self.lifts.firstIndex { time < $0 } ?? self.lifts.count
        self.lifts.insert(time, at: index)
    }

    /// The place of client `id`, which starts now (`time`) when the log has not named it before (a client the log
    /// did not announce is an external one's).
    private mutating func place(
        _ id: String,
        at time: Double,
        group: String = "external",
        strategy: String = "external",
        jobId: String = ""
    ) -> Int {
        if let place = self.index[id] { return place }
        let place = self.outcomes.count
        self.index[id] = place
        self.outcomes.append(
            ClientOutcome(
                id: id,
                group: group,
                strategy: strategy,
                jobId: jobId,
                startTime: time,
                endTime: time,
                outcome: "stopped",
                fellBack: false,
                connectAttempts: 0,
                connections: 0,
                delivered: 0,
                deliveredByPolling: 0,
                duplicates: 0,
                lost: 0,
                unexpected: 0,
                latencies: [],
                timeToFirstUpdate: nil,
                reconnectAttempts: 0,
                recoveries: [],
                polls: 0,
                malformedLines: 0,
                process: nil
            )
        )
        self.tallies.append(ClientTally())
        return place
    }

    /// Ends client `place` at `time`.
    private mutating func end(_ place: Int, at time: Double) {
        self.outcomes[place].endTime = time
        self.tallies[place].ended = true
    }

    private mutating func read(_ record: LoggedEvent) {
        let time = record.time
        switch record.event {
        case .server(let event):
            switch event.kind {
            case .published(let seq, _):
                self.published[event.jobId, default: .init()][seq] = time
            case .eventStreamOpened(let lastSeq, _):
                self.sawEventStreams = true
                guard let place = self.jobClients[event.jobId] else { return }
                Self.eventStreamOpened(
                    after: lastSeq,
                    at: time,
                    client: &self.outcomes[place],
                    tally: self.tallies[place]
                )
            case .jobCreated, .streamOpened, .streamClosed, .eventStreamClosed, .stateServed, .jobExpired:
                return
            }
        case .run(let event):
            self.read(event, at: time)
        case .client(let event):
            guard !event.clientId.isEmpty else { return }
            self.read(event, at: time)
        case .unknown:
            return
        }
    }

    private mutating func read(_ event: RunnerEvent, at time: Double) {
        switch event {
        case .clientStarted(let id, let group, let strategy, let jobId):
            let place = self.place(id, at: time, group: group, strategy: strategy, jobId: jobId)
            self.tallies[place].failingSince = time
            if !jobId.isEmpty { self.jobClients[jobId] = place }
        case .clientFailedToStart(let id, let reason):
            // External client processes: how they ended. An exit before `finished` ends the client there (its job
            // is incomplete, messages published before the exit are lost).
            let place = self.place(id, at: time)
            self.outcomes[place].outcome = "not started"
            self.end(place, at: time)
            self.outcomes[place].process = "failed to start: \(reason)"
        case .clientExited(let id, let status, _, let early):
            let place = self.place(id, at: time)
            if early && self.outcomes[place].outcome == "stopped" {
                self.outcomes[place].outcome = "exited"
                self.end(place, at: time)
            }
            let before = self.outcomes[place].outcome == "exited" ? " before its job finished" : ""
            self.outcomes[place].process = "exited (\(status))\(before)"
        case .clientTerminated(let id, let reason, _):
            let place = self.place(id, at: time)
            if self.outcomes[place].outcome == "stopped" { self.end(place, at: time) }
            self.outcomes[place].process = reason.isEmpty ? "terminated at the end of the run" : reason
        case .clientKilled(let id, let reason):
            let place = self.place(id, at: time)
            self.outcomes[place].process = (self.outcomes[place].process.map { $0 + "; " } ?? "") + "killed: \(reason)"
        case .clientOutputMalformed(let id, _, _, _):
            let place = self.place(id, at: time)
            self.outcomes[place].malformedLines += 1
        case .faultApplied(_, _, let name, let type, _, _, _, _):
            self.faultEvents += 1
            self.faultEventTimes.append(time)
            self.appliedTypes[name] = type
        case .handoff(let at, _, _, _, _, _, let connectionsCut):
            self.faultEvents += 1
            self.faultEventTimes.append(time)
            if connectionsCut == 0 {
                self.notInjected.append("handoff at \(at)")
                self.notInjectedTimes.append(time)
            }
        case .clientsSuspended, .serverRestart:
            self.faultEvents += 1
            self.faultEventTimes.append(time)
        case .faultLifted(let name, let connectionsHit, _):
            // `down` always acts: it stops the listener, whether or not a connection was there to close.
            if connectionsHit == 0, self.appliedTypes[name] != FaultType.down.rawValue {
                self.notInjected.append(name)
                self.notInjectedTimes.append(time)
            }
        case .faultNotApplied(_, let name, _, _):
            self.notInjected.append("\(name) (not applied)")
            self.notInjectedTimes.append(time)
        case .scenario, .clientProcess, .profile, .serverStarted, .serverReady, .serverExited, .publicationsUnknown,
            .harnessLag, .runEnded:
            break
        }
    }

    /// The server opened an event stream for `client`'s job from `lastSeq`: a resume when the client had delivered
    /// a message — right when it asked for exactly what it was missing — and what it sent again that the client had.
    private static func eventStreamOpened(
        after lastSeq: Int,
        at time: Double,
        client: inout ClientOutcome,
        tally: ClientTally
    ) {
        guard tally.highestDelivered > 0 else { return }
        let exact = lastSeq == tally.highestDelivered
        client.resumes.append(Observation(value: exact ? 1 : 0, start: time, end: time))
        let replayed = lastSeq < tally.highestDelivered ? tally.seen.count { $0 > lastSeq } : 0
        client.replays.append(Observation(value: Double(replayed), start: time, end: time))
    }

    private mutating func read(_ event: ClientEvent, at time: Double) {
        if case .connected(_, _, .sse) = event.kind { self.sawEventStreams = true }
        let place = self.place(event.clientId, at: time)
        // Mutated in place: copying a client's outcome (a dozen arrays) for each of millions of events costs more
        // than the rest of the pass.
        Self.read(
            event,
            at: time,
            client: &self.outcomes[place],
            tally: &self.tallies[place],
            place: place,
            polling: &self.polling,
            published: self.published,
            since: self.start ?? time,
            clock: self.clock
        )
    }

    /// One client event: `client` and `tally` are that client's, `place` its place; `since` is the start of the
    /// run.
    private static func read(
        _ event: ClientEvent,
        at time: Double,
        client: inout ClientOutcome,
        tally: inout ClientTally,
        place: Int,
        polling: inout Set<Int>,
        published: [String: PublicationTimes],
        since start: Double,
        clock: ScenarioClock
    ) {
        /// A duration sample from `since` to `until` (log times), valued in scenario milliseconds.
        func duration(_ since: Double, _ until: Double) -> Observation {
            Observation(value: clock.scenarioMilliseconds(from: since, to: until), start: since, end: until)
        }
        if client.jobId.isEmpty { client.jobId = event.jobId }
        switch event.kind {
        case .connectAttempt:
            client.connectAttempts += 1
            client.connectAttemptTimes.append(clock.scenarioMilliseconds(from: start, to: time))
            if let earlier = tally.pendingAttempt {
                client.connectResults.append(Observation(value: 0, start: earlier, end: time))
            }
            tally.pendingAttempt = time
        case .connected(_, _, let via):
            tally.onEventStream = via == .sse
            client.markUsed(via)
            client.connections += 1
            let attempt = tally.pendingAttempt ?? time
            tally.pendingAttempt = nil
            client.connectResults.append(Observation(value: 1, start: attempt, end: time))
            tally.failingSince = nil
            polling.remove(place)
            if let since = tally.pollingSinceLift {
                tally.pollingSinceLift = nil
                client.pollingAfterRecovery.append(duration(since, time))
            }
            if let since = tally.openSince {
                tally.openSince = nil
                client.recoveries.append(duration(since, time))
            }
        case .connectFailed:
            if let attempt = tally.pendingAttempt {
                tally.pendingAttempt = nil
                client.connectResults.append(Observation(value: 0, start: attempt, end: time))
            }
        case .closed:
            if event.kind.isLinkLost && tally.onEventStream && tally.eventStreamLost == nil {
                tally.eventStreamLost = (time, tally.highestDelivered)
            }
            tally.onEventStream = false
            if event.kind.isLinkLost && tally.openSince == nil {
                tally.openSince = time
                if !polling.contains(place) && tally.failingSince == nil { tally.failingSince = time }
            }
        case .reconnectAttempt:
            client.reconnectAttempts += 1
            client.reconnectTimes.append(time)
        case .fallback:
            client.fellBack = true
            if client.fellBackAt == nil { client.fellBackAt = time }
        case .poll:
            client.markUsed(.polling)
            client.polls += 1
            client.pollTimes.append(clock.scenarioMilliseconds(from: start, to: time))
            if let since = tally.failingSince {
                tally.failingSince = nil
                client.fallbackDelays.append(duration(since, time))
            }
            polling.insert(place)
        case .delivered(let seq, let via, _, _):
            guard seq > 0 else { break }
            let job = event.jobId.isEmpty ? client.jobId : event.jobId
            // Another job's message (cross-talk) is unexpected, whatever its seq: never a duplicate of the
            // client's own message with that number.
            guard job == client.jobId else {
                tally.crossJob += 1
                break
            }
            guard tally.seen.insert(seq) else {
                client.duplicates += 1
                client.duplicateTimes.append(time)
                break
            }
            client.delivered += 1
            if via == .polling { client.deliveredByPolling += 1 }
            if via == .sse, let lost = tally.eventStreamLost, seq > lost.highest {
                tally.eventStreamLost = nil
                client.resumeDelays.append(duration(lost.at, time))
            }
            tally.highestDelivered = max(tally.highestDelivered, seq)
            if let publishedAt = published[job]?[seq] {
                client.latencies.append(duration(min(publishedAt, time), time))
            }
            if client.timeToFirstUpdate == nil {
                client.timeToFirstUpdate = duration(client.startTime, time)
            }
        case .finished(let outcome):
            client.outcome = outcome.rawValue
            client.endTime = time
            tally.ended = true
        case .stopped:
            client.endTime = time
            tally.ended = true
        case .stateSync, .recovered, .duplicateDropped, .suspended, .resumed, .steppedDown:
            break
        }
    }

    /// The metrics of everything read: messages published after a delivery was recorded can only be judged once
    /// every publication is known.
    package consuming func finish() -> RunMetrics {
        let start = self.start ?? 0
        let end = self.end
        self.steps.finish(runEnd: end)
        let steps = self.steps
        let stepNames = Set(steps.windows.map(\.name))
        for place in self.outcomes.indices {
            let tally = self.tallies[place]
            var client = self.outcomes[place]
            if !tally.ended { client.endTime = end }
            // A client whose job ended while it polled had no reason to return; one still polling when the run
            // stopped it did.
            client.stuckOnPolling = tally.pollingSinceLift != nil && client.outcome == "stopped"
            if let attempt = tally.pendingAttempt {
                client.connectResults.append(Observation(value: 0, start: attempt, end: client.endTime))
            }
            let grace = client.outcome == "stopped" ? self.clock.played(milliseconds: RunMetrics.lossGrace) : 0
            var lostAt: [Double] = []
            let publications = self.published[client.jobId] ?? PublicationTimes()
            publications.forEachPublication { seq, time in
                if !tally.seen.contains(seq) && time <= client.endTime - grace {
                    client.lost += 1
                    lostAt.append(time)
                }
            }
            lostAt.sort()
            client.lostAt = lostAt
            client.stepRecoveries = steps.recoveries[client.id] ?? [:]
            client.stepFallbacks = steps.fallbacks[client.id] ?? [:]
            for step in stepNames {
                let lost = steps.lost(by: client.id, publishedAt: lostAt, in: step, runEnd: end)
                if !lost.isEmpty { client.stepLost[step] = lost }
            }
            // Unexpected: a seq the client's job never published, or a message of another job (cross-talk).
            client.unexpected = tally.seen.count { publications[$0] == nil } + tally.crossJob
            self.outcomes[place] = client
        }
        return RunMetrics(
            clients: self.outcomes,
            hasEventStreams: self.sawEventStreams,
            faultEvents: self.faultEvents,
            faultsNotInjected: self.notInjected,
            timeScale: self.clock.timeScale,
            durationMilliseconds: self.clock.scenarioMilliseconds(from: start, to: end),
            startedAt: start,
            faultEventTimes: self.faultEventTimes,
            faultsNotInjectedTimes: self.notInjectedTimes
        )
    }
}
