import SquallReferenceClient

/// What each client was doing over the run, read from the log event by event: the intervals a client spent
/// connecting or reconnecting, on WebSocket, on an event stream, polling, suspended, and when it was done. The report's per-client lanes
/// and its clients-by-state chart are both drawn from it.
package struct ClientStateTimeline: Sendable {
    /// A client's state.
    package enum State: CaseIterable, Sendable {
        /// Connecting or reconnecting (no WebSocket, not polling).
        case connecting
        /// On an open WebSocket.
        case websocket
        /// On an open event stream.
        case eventStream
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
            case .eventStream: self = .eventStream
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

    /// The report's lanes: the intervals, in time order, of the first ``laneCount`` clients the log names (a
    /// client's last interval lasts to the end of the run). The report draws the first 200 clients of its metrics,
    /// which name every client at least as early.
    package private(set) var intervals: [String: [Interval]] = [:]
    /// How many clients were ever in a state (the chart's full height).
    package private(set) var clientCount = 0
    /// The states some client was in (a report's legend names an event stream only when one was used).
    package private(set) var statesSeen: Set<State> = []
    /// How many clients' intervals are kept for the lanes.
    package static let laneCount = 200

    /// What is followed of one client: its phase, and its state now and since when (log time).
    private struct Followed: Sendable {
        var tracker = ClientPhaseTracker()
        var state: State?
        var since: Double = 0
        /// Whether its intervals are kept for a lane.
        var hasLane: Bool
    }

    /// One change of the count of clients in a state, for the chart: a client entered (+1) or left (-1) `state`.
    private struct Change: Sendable {
        var time: Double
        var state: State
        var delta: Int8
    }

    private var followed: [String: Followed] = [:]
    /// Every change, in time order: a few per client, never per message.
    private var changes: [Change] = []

    /// A timeline that has seen nothing yet.
    package init() {}

    /// Follows one event of the log, in time order.
    package mutating func add(_ logged: LoggedEvent) {
        switch logged.event {
        case .run(.clientStarted(let client, _, _, _)):
            self.follow(client, at: logged.time) { $0.started() }
        case .client(let event) where !event.clientId.isEmpty:
            self.follow(event.clientId, at: logged.time) { $0.apply(event.kind) }
        case .client, .run, .server, .unknown:
            return
        }
    }

    private mutating func follow(_ id: String, at time: Double, _ change: (inout ClientPhaseTracker) -> Bool) {
        if self.followed[id] == nil { self.followed[id] = Followed(hasLane: self.followed.count < Self.laneCount) }
        guard change(&self.followed[id]!.tracker), let state = State(self.followed[id]!.tracker.phase) else { return }
        let client = self.followed[id]!
        if let open = client.state {
            if open == state { return }
            if client.hasLane {
                self.intervals[id, default: []].append(Interval(state: open, since: client.since, until: time))
            }
            self.changes.append(Change(time: time, state: open, delta: -1))
        } else {
            self.clientCount += 1
        }
        self.changes.append(Change(time: time, state: state, delta: 1))
        self.statesSeen.insert(state)
        self.followed[id]!.state = state
        self.followed[id]!.since = time
    }

    /// Closes every lane's last interval at the end of the run (`end`, log time).
    package mutating func finish(end: Double) {
        for (id, client) in self.followed where client.hasLane {
            guard let state = client.state else { continue }
            self.intervals[id, default: []].append(
                Interval(state: state, since: client.since, until: max(client.since, end))
            )
        }
        self.followed = [:]
    }

    /// How many clients were in each state at each of `times` (ascending), in one sweep over the changes: a report of
    /// a million-client simulation samples its chart without scanning every client per sample.
    package func counts(at times: [Double]) -> [[State: Int]] {
        // The changes are in time order; all of one instant are taken before a sample at it.
        var current: [State: Int] = [:]
        var next = 0
        return times.map { time in
            while next < self.changes.count, self.changes[next].time <= time {
                current[self.changes[next].state, default: 0] += Int(self.changes[next].delta)
                next += 1
            }
            return current
        }
    }
}
