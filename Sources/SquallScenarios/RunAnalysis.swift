import SquallFaults
import SquallReferenceClient

/// A run's events read once, in time order, as they come — from a simulation as it runs, or from a log as it is
/// read: its metrics and steps (``RunMetricsReducer``), its clients' states for the charts
/// (``ClientStateTimeline``), and the runner's own events (a few per client and timeline step), without holding the
/// clients' and the server's events, which a run of a million clients has hundreds of millions of.
package struct RunAnalysis: Sendable {
    /// The run's header, its first `scenario` event.
    package private(set) var header: RunHeader?
    /// The runner's events (`source: run`) about the run as a whole, in time order: the header, the timeline, the
    /// server, external clients' processes, the harness's samples, the end. A client's start and end are read into
    /// the metrics and not kept: a million clients would keep a million of each.
    package private(set) var runEvents: [LoggedEvent] = []
    /// How many events were read.
    package private(set) var eventCount = 0
    /// The first event's time (log time, ms).
    package private(set) var firstTime: Double?
    /// The last event's time (log time, ms).
    package private(set) var lastTime: Double?
    /// Client connections that ended before the client's job did: cut under it, or closed by its own heartbeat
    /// (every `closed` but a client's own at the end of its job).
    package private(set) var linkEnds = 0
    /// Each client's states over the run.
    package private(set) var clientStates = ClientStateTimeline()

    /// The metrics, once the header says the run's clock.
    private var metrics: RunMetricsReducer?
    /// Events before the header (none in a log Squall wrote), kept until it comes.
    private var beforeHeader: [LoggedEvent] = []
    /// The events of the instant being read: the metrics take an instant at a time.
    private var instant: [LoggedEvent] = []

    /// An analysis that has read nothing yet.
    package init() {}

    /// Reads the next event; events come in time order (equal times in the order they were logged).
    package mutating func add(_ logged: LoggedEvent) {
        self.eventCount += 1
        if self.firstTime == nil { self.firstTime = logged.time }
        self.lastTime = logged.time
        switch logged.event {
        case .run(let event):
            if Self.isRunWide(event) { self.runEvents.append(logged) }
            if self.header == nil, case .scenario(let header) = event {
                self.header = header
                self.metrics = RunMetricsReducer(
                    clock: ScenarioClock(timeScale: header.timeScale),
                    expectedClients: Self.plannedClients(header)
                )
                for early in self.beforeHeader { self.take(early) }
                self.beforeHeader = []
            }
        case .client(let event):
            if event.kind.isLinkLost { self.linkEnds += 1 }
        case .server, .unknown:
            break
        }
        self.clientStates.add(logged)
        if self.metrics == nil {
            self.beforeHeader.append(logged)
        } else {
            self.take(logged)
        }
    }

    /// The clients the header's scenario starts, at most two million: room the metrics make at once rather than
    /// grow into (a million clients' outcomes are copied whole each time their array grows).
    private static func plannedClients(_ header: RunHeader) -> Int {
        guard case .object(let scenario)? = header.scenario, case .array(let groups)? = scenario["clients"] else {
            return 0
        }
        var planned = 0.0
        for case .object(let members) in groups {
            if case .number(let count)? = members["count"], count > 0 { planned += count }
        }
        return Int(min(planned, 2_000_000))
    }

    /// Whether the runner's event is about the run as a whole (kept), not about one reference client.
    private static func isRunWide(_ event: RunnerEvent) -> Bool {
        switch event {
        case .clientStarted, .clientExited, .clientTerminated, .clientKilled, .clientOutputMalformed,
            .clientFailedToStart:
            false
        case .scenario, .clientProcess, .faultApplied, .faultNotApplied, .faultLifted, .handoff, .profile,
            .clientsSuspended, .serverRestart, .serverStarted, .serverReady, .serverExited, .publicationsUnknown,
            .harnessLag, .runEnded:
            true
        }
    }

    /// Hands the metrics the instant that `logged` ends, if it does, and keeps `logged` for the next.
    private mutating func take(_ logged: LoggedEvent) {
        if let time = self.instant.first?.time, time != logged.time {
            self.metrics?.add(instant: self.instant[...])
            self.instant.removeAll(keepingCapacity: true)
        }
        self.instant.append(logged)
    }

    /// What the analysis found, once every event is read.
    package struct Result: Sendable {
        /// The run's header, its first `scenario` event.
        package var header: RunHeader?
        /// The runner's events, in time order.
        package var runEvents: [LoggedEvent]
        /// How many events were read.
        package var eventCount: Int
        /// The first event's time (log time, ms); 0 without events.
        package var firstTime: Double
        /// The last event's time (log time, ms); 0 without events.
        package var lastTime: Double
        /// Client connections that ended before the client's job did.
        package var linkEnds: Int
        /// Each client's states over the run.
        package var clientStates: ClientStateTimeline
        /// The metrics.
        package var metrics: RunMetrics
    }

    /// Ends the reading: the last instant's metrics, every client's last state.
    package consuming func finish() -> Result {
        if self.metrics == nil {
            // No header: the metrics on the default clock (a record without its header is refused anyway).
            self.metrics = RunMetricsReducer(clock: ScenarioClock(timeScale: 1))
            for early in self.beforeHeader { self.take(early) }
        }
        // Taken, not copied: a copy would be copied again, whole, by the first change.
        var metrics = self.metrics.take()!
        if !self.instant.isEmpty { metrics.add(instant: self.instant[...]) }
        self.clientStates.finish(end: self.lastTime ?? 0)
        return Result(
            header: self.header,
            runEvents: self.runEvents,
            eventCount: self.eventCount,
            firstTime: self.firstTime ?? 0,
            lastTime: self.lastTime ?? 0,
            linkEnds: self.linkEnds,
            clientStates: self.clientStates,
            metrics: metrics.finish()
        )
    }
}
