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
    /// Whether a client had an event stream (or the server opened one) in the run.
    public var hasEventStreams = false

    /// The metrics the run's reports list: every one, but those about event streams only when there were any.
    public var reported: [Metric] {
        Metric.allCases.filter { !$0.isAboutEventStreams || self.hasEventStreams }
    }

    /// A stopped client's messages published within this long (scenario time) before it stopped are not counted
    /// lost: they may still have been on their way.
    public static let lossGrace: Double = 5_000

    /// The metrics of a whole log, in time order: the log read by a ``RunAnalysis``, as a run is.
    ///
    /// - Parameter records: the log, in time order.
    public init(events records: [LoggedEvent]) {
        var analysis = RunAnalysis()
        for record in records { analysis.add(record) }
        self = analysis.finish().metrics
    }

    /// Metrics already computed.
    package init(
        clients: [ClientOutcome],
        hasEventStreams: Bool = false,
        faultEvents: Int,
        faultsNotInjected: [String],
        timeScale: Double,
        durationMilliseconds: Double,
        startedAt: Double,
        faultEventTimes: [Double],
        faultsNotInjectedTimes: [Double]
    ) {
        self.clients = clients
        self.hasEventStreams = hasEventStreams
        self.faultEvents = faultEvents
        self.faultsNotInjected = faultsNotInjected
        self.timeScale = timeScale
        self.durationMilliseconds = durationMilliseconds
        self.startedAt = startedAt
        self.faultEventTimes = faultEventTimes
        self.faultsNotInjectedTimes = faultsNotInjectedTimes
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
                case "transport":
                    HybridClientStateMachine.Transport(rawValue: value).map { self.clients[index].used($0) } ?? false
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
            .pollingRequests, .malformedOutput, .faultEvents, .faultsNotInjected, .resumeSuccessRate, .timeToResume,
            .replayedEvents:
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
        case .resumeSuccessRate: return clients.flatMap(\.resumes)
        case .timeToResume: return clients.flatMap(\.resumeDelays)
        case .replayedEvents: return clients.flatMap(\.replays)
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
        return Self.aggregate(sorted: samples.sorted(), aggregation)
    }

    /// `aggregate(_:_:)` of samples already in ascending order, so one sort serves several aggregations.
    package static func aggregate(sorted: [Double], _ aggregation: Gate.Aggregation) -> Double? {
        if case .count = aggregation { return Double(sorted.count) }
        guard !sorted.isEmpty else { return nil }
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
