import SquallScenarios

/// What each client was doing over the run, read from the log: the intervals a client spent connecting or
/// reconnecting, on WebSocket, polling, suspended, and when it was done. The report's per-client lanes and its
/// clients-by-state chart are both drawn from it.
struct ClientStateTimeline {
    /// A client's state.
    enum State: CaseIterable {
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
    }

    /// One stretch of time a client spent in one state (log time, ms).
    struct Interval {
        /// The state.
        var state: State
        /// From.
        var since: Double
        /// Until.
        var until: Double
    }

    /// Each client's intervals, in time order (a client's `done` interval lasts to the end of the run).
    private(set) var intervals: [String: [Interval]] = [:]

    /// Reads every client's states from a run's log.
    init(_ record: RunRecord) {
        var current: [String: (state: State, since: Double)] = [:]
        var before: [String: State] = [:]
        func enter(_ id: String, _ state: State, at time: Double) {
            if let open = current[id] {
                if open.state == state { return }
                self.intervals[id, default: []].append(Interval(state: open.state, since: open.since, until: time))
            }
            current[id] = (state, time)
        }
        for event in record.records {
            guard let id = event.client else { continue }
            let polling = current[id]?.state == .polling
            switch (event.source, event.event) {
            case ("run", "client_started"), ("client", "connect_attempt"):
                if !polling { enter(id, .connecting, at: event.time) }
            case ("client", "connected"), ("client", "recovered"): enter(id, .websocket, at: event.time)
            case ("client", "closed"), ("client", "connect_failed"), ("client", "reconnect_attempt"):
                if !polling && current[id]?.state != .done { enter(id, .connecting, at: event.time) }
            case ("client", "fallback"): enter(id, .polling, at: event.time)
            case ("client", "suspended"):
                before[id] = current[id]?.state
                enter(id, .suspended, at: event.time)
            case ("client", "resumed"): enter(id, before[id] ?? .connecting, at: event.time)
            case ("client", "finished"), ("client", "stopped"): enter(id, .done, at: event.time)
            default: break
            }
        }
        for (id, open) in current {
            self.intervals[id, default: []].append(
                Interval(state: open.state, since: open.since, until: max(open.since, record.endedAt))
            )
        }
    }

    /// How many clients were in each state at `time`.
    func counts(at time: Double) -> [State: Int] {
        var counts: [State: Int] = [:]
        for intervals in self.intervals.values {
            if let interval = intervals.first(where: { $0.since <= time && time < $0.until })
                ?? intervals.last.flatMap({ $0.until <= time && $0.state == .done ? $0 : nil })
            {
                counts[interval.state, default: 0] += 1
            }
        }
        return counts
    }
}
