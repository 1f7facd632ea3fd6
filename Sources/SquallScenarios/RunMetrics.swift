import SquallFaults
import SquallReferenceClient
import SquallReferenceServer

/// Every metric of a run, computed from its event log alone (the Jepsen total-queue view: server publications
/// against client deliveries), with the per-client samples gates filter by tag.
public struct RunMetrics: Sendable, Hashable {
    /// One entry per client, in start order.
    public var clients: [ClientOutcome]
    /// Fault applications on the timeline.
    public var faultEvents: Int
    /// Faults (and handoffs) that acted on no connection, by name.
    public var faultsNotInjected: [String]
    /// The run's scale factor (scenario time = real time / timeScale).
    public var timeScale: Double
    /// The run's clock: how its log's times map to scenario time.
    public var clock: ScenarioClock { ScenarioClock(timeScale: self.timeScale) }
    /// Run length in scenario milliseconds.
    public var durationMilliseconds: Double
    /// When the run started (its first event, log time in ms since the epoch).
    public var startedAt: Double
    /// When each fault application on the timeline happened (log time).
    public var faultEventTimes: [Double] = []
    /// When each fault that was not injected was found so (log time), as ``faultsNotInjected``.
    public var faultsNotInjectedTimes: [Double] = []

    /// A stopped client's messages published within this long (scenario time) before it stopped are not counted
    /// lost: they may still have been on their way.
    public static let lossGrace: Double = 5_000

    /// Computes the metrics.
    ///
    /// - Parameter records: the log, in time order.
    public init(events records: [LoggedEvent]) {
        let clock = ScenarioClock(timeScale: RunHeader(events: records)?.timeScale ?? 1)
        self.timeScale = clock.timeScale
        let start = records.first?.time ?? 0
        let end = records.last?.time ?? start
        self.startedAt = start
        self.durationMilliseconds = clock.scenarioMilliseconds(from: start, to: end)
        var faultEventTimes: [Double] = []
        var notInjectedTimes: [Double] = []
        /// Each applied fault's type, by name.
        var appliedTypes: [String: String] = [:]
        /// Each client's connect attempt awaiting its answer (log time).
        var pendingAttempt: [String: Double] = [:]

        var published: [String: [Int: Double]] = [:]
        var order: [String] = []
        var outcomes: [String: ClientOutcome] = [:]
        var seen: [String: [Int: Int]] = [:]
        var openSince: [String: Double] = [:]
        var faultEvents = 0
        var notInjected: [String] = []
        var crossJob: [String: Int] = [:]
        /// Since when each client has been without an open WebSocket and not yet polling (its start, or the loss of
        /// its WebSocket); nil while connected or polling.
        var failingSince: [String: Double] = [:]
        var polling: Set<String> = []
        // The moments WebSocket was given back: each fault lifted during the run, and the end of each handoff's
        // blackout. A client polling at one of them is timed until it has a WebSocket again.
        var lifts: [Double] = []
        for record in records {
            guard case .run(let event) = record.event else { continue }
            switch event {
            case .faultLifted(_, _, let healing):
                if !healing { lifts.append(record.time) }
            case .handoff(_, _, _, let blackout, _, _, _):
                let length = Duration(parsing: blackout) ?? .zero
                lifts.append(record.time + clock.played(milliseconds: length.milliseconds))
            case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
                .clientKilled, .clientOutputMalformed, .faultApplied, .faultNotApplied, .profile, .clientsSuspended,
                .serverRestart, .serverStarted, .serverReady, .serverExited, .publicationsUnknown, .harnessLag,
                .runEnded:
                continue
            }
        }
        lifts.sort()
        var nextLift = 0
        var pollingSinceLift: [String: Double] = [:]

        func update(_ id: String, at time: Double, _ body: (inout ClientOutcome) -> Void) {
            if outcomes[id] == nil { outcomes[id] = outcome(id, at: time) }
            body(&outcomes[id]!)
        }

        /// A duration sample from `since` to `until` (log times), valued in scenario milliseconds.
        func duration(_ since: Double, _ until: Double) -> Observation {
            Observation(value: clock.scenarioMilliseconds(from: since, to: until), start: since, end: until)
        }

        /// The client's outcome so far, or a new one started at `time` (a client the log did not announce is an
        /// external one's).
        func outcome(
            _ id: String,
            at time: Double,
            group: String = "external",
            strategy: String = "external",
            jobId: String = ""
        ) -> ClientOutcome {
            if let existing = outcomes[id] { return existing }
            order.append(id)
            return ClientOutcome(
                id: id,
                group: group,
                strategy: strategy,
                jobId: jobId,
                startTime: time,
                endTime: end,
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
        }

        for record in records {
            while nextLift < lifts.count, lifts[nextLift] <= record.time {
                for id in polling where pollingSinceLift[id] == nil {
                    pollingSinceLift[id] = lifts[nextLift]
                    outcomes[id]?.pollingAtALift = true
                    if outcomes[id]?.pollingAtLiftSince == nil { outcomes[id]?.pollingAtLiftSince = lifts[nextLift] }
                }
                nextLift += 1
            }
            let time = record.time
            switch record.event {
            case .server(let event):
                if case .published(let seq, _) = event.kind { published[event.jobId, default: [:]][seq] = time }
            case .run(let event):
                switch event {
                case .clientStarted(let id, let group, let strategy, let jobId):
                    outcomes[id] = outcome(id, at: time, group: group, strategy: strategy, jobId: jobId)
                    failingSince[id] = time
                case .clientFailedToStart(let id, let reason):
                    // External client processes: how they ended. An exit before `finished` ends the client there
                    // (its job is incomplete, messages published before the exit are lost).
                    var client = outcome(id, at: time)
                    client.outcome = "not started"
                    client.endTime = time
                    client.process = "failed to start: \(reason)"
                    outcomes[id] = client
                case .clientExited(let id, let status, _, let early):
                    var client = outcome(id, at: time)
                    if early && client.outcome == "stopped" {
                        client.outcome = "exited"
                        client.endTime = time
                    }
                    client.process =
                        "exited (\(status))\(client.outcome == "exited" ? " before its job finished" : "")"
                    outcomes[id] = client
                case .clientTerminated(let id, let reason, _):
                    var client = outcome(id, at: time)
                    if client.outcome == "stopped" { client.endTime = time }
                    client.process = reason.isEmpty ? "terminated at the end of the run" : reason
                    outcomes[id] = client
                case .clientKilled(let id, let reason):
                    var client = outcome(id, at: time)
                    client.process = (client.process.map { $0 + "; " } ?? "") + "killed: \(reason)"
                    outcomes[id] = client
                case .clientOutputMalformed(let id, _, _, _):
                    var client = outcome(id, at: time)
                    client.malformedLines += 1
                    outcomes[id] = client
                case .faultApplied(_, _, let name, let type, _, _, _, _):
                    faultEvents += 1
                    faultEventTimes.append(time)
                    appliedTypes[name] = type
                case .handoff(let at, _, _, _, _, _, let connectionsCut):
                    faultEvents += 1
                    faultEventTimes.append(time)
                    if connectionsCut == 0 {
                        notInjected.append("handoff at \(at)")
                        notInjectedTimes.append(time)
                    }
                case .clientsSuspended, .serverRestart:
                    faultEvents += 1
                    faultEventTimes.append(time)
                case .faultLifted(let name, let connectionsHit, _):
                    // `down` always acts: it stops the listener, whether or not a connection was there to close.
                    if connectionsHit == 0, appliedTypes[name] != FaultType.down.rawValue {
                        notInjected.append(name)
                        notInjectedTimes.append(time)
                    }
                case .faultNotApplied(_, let name, _, _):
                    notInjected.append("\(name) (not applied)")
                    notInjectedTimes.append(time)
                case .scenario, .clientProcess, .profile, .serverStarted, .serverReady, .serverExited,
                    .publicationsUnknown, .harnessLag, .runEnded:
                    break
                }
            case .client(let event):
                let id = event.clientId
                guard !id.isEmpty else { continue }
                // Mutated in place: copying a client's outcome (a dozen arrays) for each of millions of events costs
                // more than the rest of the loop.
                update(id, at: time) { client in
                    if client.jobId.isEmpty { client.jobId = event.jobId }
                    switch event.kind {
                    case .connectAttempt:
                        client.connectAttempts += 1
                        client.connectAttemptTimes.append(clock.scenarioMilliseconds(from: start, to: time))
                        if let earlier = pendingAttempt.updateValue(time, forKey: id) {
                            client.connectResults.append(Observation(value: 0, start: earlier, end: time))
                        }
                    case .connected:
                        client.connections += 1
                        let attempt = pendingAttempt.removeValue(forKey: id) ?? time
                        client.connectResults.append(Observation(value: 1, start: attempt, end: time))
                        failingSince[id] = nil
                        polling.remove(id)
                        if let since = pollingSinceLift.removeValue(forKey: id) {
                            client.pollingAfterRecovery.append(duration(since, time))
                        }
                        if let since = openSince.removeValue(forKey: id) {
                            client.recoveries.append(duration(since, time))
                        }
                    case .connectFailed:
                        if let attempt = pendingAttempt.removeValue(forKey: id) {
                            client.connectResults.append(Observation(value: 0, start: attempt, end: time))
                        }
                    case .closed(_, let reason):
                        if !reason.hasPrefix("client closed: job") && openSince[id] == nil {
                            openSince[id] = time
                            if !polling.contains(id) && failingSince[id] == nil { failingSince[id] = time }
                        }
                    case .reconnectAttempt:
                        client.reconnectAttempts += 1
                        client.reconnectTimes.append(time)
                    case .fallback:
                        client.fellBack = true
                        if client.fellBackAt == nil { client.fellBackAt = time }
                    case .poll:
                        client.polls += 1
                        client.pollTimes.append(clock.scenarioMilliseconds(from: start, to: time))
                        if let since = failingSince.removeValue(forKey: id) {
                            client.fallbackDelays.append(duration(since, time))
                        }
                        polling.insert(id)
                    case .delivered(let seq, let via, _, _):
                        guard seq > 0 else { break }
                        let job = event.jobId.isEmpty ? client.jobId : event.jobId
                        let count = seen[id, default: [:]][seq, default: 0]
                        seen[id, default: [:]][seq] = count + 1
                        if count > 0 {
                            client.duplicates += 1
                            client.duplicateTimes.append(time)
                            break
                        }
                        client.delivered += 1
                        if via == .polling { client.deliveredByPolling += 1 }
                        if job == client.jobId, let publishedAt = published[job]?[seq] {
                            client.latencies.append(duration(min(publishedAt, time), time))
                        } else if job != client.jobId {
                            crossJob[id, default: 0] += 1
                        }
                        if client.timeToFirstUpdate == nil {
                            client.timeToFirstUpdate = duration(client.startTime, time)
                        }
                    case .finished(let outcome):
                        client.outcome = outcome.rawValue
                        client.endTime = time
                    case .stopped:
                        client.endTime = time
                    case .stateSync, .recovered, .duplicateDropped, .suspended, .resumed:
                        break
                    }
                }
            case .unknown:
                continue
            }
        }
        let steps = StepObserver(events: records, clock: clock)
        // Messages published after a delivery was recorded can only be judged once every publication is known.
        for id in order {
            guard var client = outcomes[id] else { continue }
            // A client whose job ended while it polled had no reason to return; one still polling when the run
            // stopped it did.
            client.stuckOnPolling = pollingSinceLift[id] != nil && client.outcome == "stopped"
            if let attempt = pendingAttempt[id] {
                client.connectResults.append(Observation(value: 0, start: attempt, end: client.endTime))
            }
            let delivered = seen[id] ?? [:]
            let grace = client.outcome == "stopped" ? clock.played(milliseconds: Self.lossGrace) : 0
            var lostAt: [Double] = []
            for (seq, time) in published[client.jobId] ?? [:]
            where delivered[seq] == nil && time <= client.endTime - grace {
                client.lost += 1
                lostAt.append(time)
            }
            lostAt.sort()
            client.lostAt = lostAt
            client.stepRecoveries = steps.recoveries[id] ?? [:]
            client.stepFallbacks = steps.fallbacks[id] ?? [:]
            for step in Set(steps.windows.map(\.name)) {
                let lost = steps.lost(by: id, publishedAt: lostAt, in: step, runEnd: end)
                if !lost.isEmpty { client.stepLost[step] = lost }
            }
            // Unexpected: a seq the client's job never published, or a message of another job (cross-talk).
            client.unexpected =
                delivered.keys.filter { published[client.jobId]?[$0] == nil }.count + crossJob[id, default: 0]
            outcomes[id] = client
        }
        self.clients = order.compactMap { outcomes[$0] }
        self.faultEvents = faultEvents
        self.faultsNotInjected = notInjected
        self.faultEventTimes = faultEventTimes
        self.faultsNotInjectedTimes = notInjectedTimes
    }

    /// The clients a tag filter selects.
    public func clients(matching tags: [String: String]) -> [ClientOutcome] {
        // By index, reading only the tagged fields: iterating would copy every outcome (a dozen arrays each).
        func matches(_ index: Int) -> Bool {
            tags.allSatisfy { key, value in
                switch key {
                case "strategy": self.clients[index].strategy == value
                case "group": self.clients[index].group == value
                case "client": self.clients[index].id == value
                // Selects a per-step metric's samples, not clients.
                case "step": true
                default: false
                }
            }
        }
        // A filter that keeps every client (none, only a step, the one group) returns them without copying each.
        if tags.keys.allSatisfy({ $0 == "step" }) || self.clients.indices.allSatisfy(matches) { return self.clients }
        return self.clients.indices.filter(matches).map { self.clients[$0] }
    }

    /// A metric's value under an aggregation, for the clients `tags` selects; nil when it has no samples.
    public func value(_ metric: Metric, _ aggregation: Gate.Aggregation, tags: [String: String] = [:]) -> Double? {
        self.value(of: self.observations(metric, tags: tags), metric, aggregation)
    }

    /// The value of `observations` (some of a metric's samples) under an aggregation: a rate's share of ones, a
    /// counter's total (the peak metrics: the busiest second's count), a trend's aggregate; nil without samples
    /// (except a counter or a trend's `count`, which are 0).
    public func value(of observations: [Observation], _ metric: Metric, _ aggregation: Gate.Aggregation) -> Double? {
        switch metric {
        case .connectRatePeak, .pollingRatePeak:
            return Double(
                Self.peakPerSecond(
                    observations.map { self.clock.scenarioMilliseconds(from: self.startedAt, to: $0.start) }
                ).count
            )
        case .fallbackRate, .websocketSuccessRate, .completionRate, .stuckOnPollingRate, .duplicateMessages,
            .lostMessages, .unexpectedMessages, .updateLatency, .timeToFirstUpdate, .reconnectAttempts, .timeToRecover,
            .timeToFallback, .timeOnPollingAfterRecovery, .stepRecovery, .stepFallback, .stepLostMessages,
            .pollingRequests, .malformedOutput, .faultEvents, .faultsNotInjected:
            break
        }
        switch metric.kind {
        case .rate:
            guard !observations.isEmpty else { return nil }
            return observations.reduce(0) { $0 + $1.value } / Double(observations.count)
        case .counter:
            return observations.reduce(0) { $0 + $1.value }
        case .trend:
            return Self.aggregate(observations.map(\.value), aggregation)
        }
    }

    /// Every sample of a metric for the clients `tags` selects, each with the stretch of the run that produced it:
    /// a rate's per-session or per-attempt ones and zeros, a counter's events, a trend's durations.
    public func observations(_ metric: Metric, tags: [String: String] = [:]) -> [Observation] {
        if metric == .faultEvents { return self.faultEventTimes.map { Observation(at: $0) } }
        if metric == .faultsNotInjected { return self.faultsNotInjectedTimes.map { Observation(at: $0) } }
        let clients = self.clients(matching: tags)
        let step = tags["step"]
        func instants(_ times: (ClientOutcome) -> [Double]) -> [Observation] {
            clients.flatMap { times($0).map { Observation(at: $0) } }
        }
        func sinceStart(_ times: (ClientOutcome) -> [Double]) -> [Observation] {
            clients.flatMap { times($0).map { Observation(at: self.startedAt + self.clock.played(milliseconds: $0)) } }
        }
        switch metric {
        case .fallbackRate:
            return clients.map {
                Observation(value: $0.fellBack ? 1 : 0, start: $0.startTime, end: $0.fellBackAt ?? $0.endTime)
            }
        case .websocketSuccessRate: return clients.flatMap(\.connectResults)
        case .completionRate:
            return clients.map {
                Observation(value: $0.outcome == "completed" ? 1 : 0, start: $0.startTime, end: $0.endTime)
            }
        case .stuckOnPollingRate:
            return clients.compactMap { client in
                client.pollingAtLiftSince.map {
                    Observation(value: client.stuckOnPolling ? 1 : 0, start: $0, end: client.endTime)
                }
            }
        case .duplicateMessages: return instants(\.duplicateTimes)
        case .lostMessages:
            return clients.flatMap { client in
                client.lostAt.map { Observation(value: 1, start: $0, end: client.endTime) }
            }
        case .stepLostMessages:
            return clients.flatMap { client in
                let times = step.map { client.stepLost[$0] ?? [] } ?? client.stepLost.values.flatMap { $0 }
                return times.map { Observation(value: 1, start: $0, end: client.endTime) }
            }
        case .unexpectedMessages:
            return clients.filter { $0.unexpected > 0 }.map {
                Observation(value: Double($0.unexpected), start: $0.startTime, end: $0.endTime)
            }
        case .malformedOutput:
            return clients.filter { $0.malformedLines > 0 }.map {
                Observation(value: Double($0.malformedLines), start: $0.startTime, end: $0.endTime)
            }
        case .reconnectAttempts: return instants(\.reconnectTimes)
        case .pollingRequests, .pollingRatePeak: return sinceStart(\.pollTimes)
        case .connectRatePeak: return sinceStart(\.connectAttemptTimes)
        case .updateLatency: return clients.flatMap(\.latencies)
        case .timeToFirstUpdate: return clients.compactMap(\.timeToFirstUpdate)
        case .timeToRecover: return clients.flatMap(\.recoveries)
        case .timeToFallback: return clients.flatMap(\.fallbackDelays)
        case .timeOnPollingAfterRecovery: return clients.flatMap(\.pollingAfterRecovery)
        case .stepRecovery: return clients.flatMap { Self.stepSamples($0.stepRecoveries, step) }
        case .stepFallback: return clients.flatMap { Self.stepSamples($0.stepFallbacks, step) }
        case .faultEvents, .faultsNotInjected: return []
        }
    }

    /// The samples of a trend metric (their values; none for other kinds).
    public func samples(_ metric: Metric, tags: [String: String] = [:]) -> [Double] {
        guard metric.kind == .trend else { return [] }
        return self.observations(metric, tags: tags).map(\.value)
    }

    /// A client's samples of a per-step metric: of one step, or of every step when `step` is nil.
    package static func stepSamples(_ samples: [String: [Observation]], _ step: String?) -> [Observation] {
        guard let step else { return samples.keys.sorted().flatMap { samples[$0]! } }
        return samples[step] ?? []
    }

    /// For the peak-rate metrics, the busiest second: how many events fell in it and when it began (scenario
    /// milliseconds since the start); nil for other metrics.
    public func peak(_ metric: Metric, tags: [String: String] = [:]) -> (count: Int, at: Double)? {
        let clients = self.clients(matching: tags)
        switch metric {
        case .connectRatePeak: return Self.peakPerSecond(clients.flatMap(\.connectAttemptTimes))
        case .pollingRatePeak: return Self.peakPerSecond(clients.flatMap(\.pollTimes))
        default: return nil
        }
    }

    /// The busiest second of scenario time among `times` (milliseconds since the start): how many fell in it and
    /// when it began, in milliseconds.
    public static func peakPerSecond(_ times: [Double]) -> (count: Int, at: Double) {
        var perSecond: [Int: Int] = [:]
        for time in times { perSecond[Int((time / 1_000).rounded(.down)), default: 0] += 1 }
        guard let busiest = perSecond.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) }) else { return (0, 0) }
        return (busiest.value, Double(busiest.key) * 1_000)
    }

    /// Aggregates trend samples; nil when there are none (except `count`, which is 0).
    public static func aggregate(_ samples: [Double], _ aggregation: Gate.Aggregation) -> Double? {
        if case .count = aggregation { return Double(samples.count) }
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        switch aggregation {
        case .average: return sorted.reduce(0, +) / Double(sorted.count)
        case .minimum: return sorted.first
        case .maximum: return sorted.last
        case .median: return Self.percentile(sorted, 50)
        case .percentile(let p): return Self.percentile(sorted, p)
        case .rate, .count: return Double(sorted.count)
        }
    }

    /// The nearest-rank-with-interpolation percentile k6 uses.
    package static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard sorted.count > 1 else { return sorted[0] }
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        // An infinite sample (a client that never recovered) must not turn the interpolation into NaN.
        guard fraction > 0, sorted[upper].isFinite else { return fraction > 0 ? sorted[upper] : sorted[lower] }
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
