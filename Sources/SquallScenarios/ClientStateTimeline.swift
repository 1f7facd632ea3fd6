import SquallReferenceClient

/// What each client was doing over the run, read from the log event by event: the intervals a client spent
/// connecting or reconnecting, on WebSocket, polling, suspended, and when it was done. The report's per-client lanes
/// and its clients-by-state chart are both drawn from it.
package struct ClientStateTimeline: Sendable {
    /// A client's state.
    package enum State: CaseIterable, Sendable {
        /// Connecting or reconnecting (no WebSocket, not polling).
        case connecting
        /// On an open WebSocket.
        case websocket
        /// Polling.
        case polling
        /// Frozen by a `suspend` step.
        case suspended
        /// Its job finished (or the run stopped it).
        case done

        /// The lane state of a phase (none before the client started).
        init?(_ phase: ClientPhase) {
            switch phase {
            case .waiting: return nil
            case .connecting: self = .connecting
            case .websocket: self = .websocket
            case .polling: self = .polling
            case .suspended: self = .suspended
            case .done: self = .done
            }
        }
    }

    /// One stretch of time a client spent in one state (log time, ms).
    package struct Interval: Sendable {
        /// The state.
        package var state: State
        /// From.
        package var since: Double
        /// Until.
        package var until: Double
    }

    /// Each client's intervals, in time order (a client's `done` interval lasts to the end of the run).
    package private(set) var intervals: [String: [Interval]] = [:]

    /// Each client's state now, and since when (log time).
    private var current: [String: (state: State, since: Double)] = [:]
    private var phases: [String: ClientPhaseTracker] = [:]

    /// A timeline that has seen nothing yet.
    package init() {}

    /// Follows one event of the log, in time order.
    package mutating func add(_ logged: LoggedEvent) {
        switch logged.event {
        case .run(.clientStarted(let client, _, _, _)):
            self.follow(client, at: logged.time) { $0.started() }
        case .client(let event) where !event.clientId.isEmpty:
            self.follow(event.clientId, at: logged.time) { $0.apply(event.eventName) }
        case .client, .run, .server, .unknown:
            return
        }
    }

    private mutating func follow(_ id: String, at time: Double, _ change: (inout ClientPhaseTracker) -> Bool) {
        guard change(&self.phases[id, default: ClientPhaseTracker()]), let state = State(self.phases[id]!.phase) else {
            return
        }
        if let open = self.current[id] {
            if open.state == state { return }
            self.intervals[id, default: []].append(Interval(state: open.state, since: open.since, until: time))
        }
        self.current[id] = (state, time)
    }

    /// Closes every client's last interval at the end of the run (`end`, log time).
    package mutating func finish(end: Double) {
        for (id, open) in self.current {
            self.intervals[id, default: []].append(
                Interval(state: open.state, since: open.since, until: max(open.since, end))
            )
        }
        self.current = [:]
        self.phases = [:]
    }

    /// How many clients were in each state at each of `times` (ascending), in one sweep over every interval's start
    /// and end: a report of a million-client simulation samples its chart without scanning every client per sample.
    package func counts(at times: [Double]) -> [[State: Int]] {
        var changes: [(time: Double, state: State, delta: Int)] = []
        for intervals in self.intervals.values {
            for (index, interval) in intervals.enumerated() {
                changes.append((interval.since, interval.state, 1))
                // A client's last interval (done, or whatever it was in at the end) lasts to the end of the chart.
                if index < intervals.count - 1 { changes.append((interval.until, interval.state, -1)) }
            }
        }
        changes.sort { $0.time < $1.time || ($0.time == $1.time && $0.delta < $1.delta) }
        var current: [State: Int] = [:]
        var next = 0
        return times.map { time in
            while next < changes.count, changes[next].time <= time {
                current[changes[next].state, default: 0] += changes[next].delta
                next += 1
            }
            return current
        }
    }
}
