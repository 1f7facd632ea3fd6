import SquallFaults
import SquallReferenceClient

/// The per-step metrics (``Metric/stepRecovery``, ``Metric/stepFallback``, ``Metric/stepLostMessages``) read from
/// the event log: each timeline step's window as the log shows it, the clients it targeted (running when it started,
/// or started while it was in force), and per client how long after the step's end it was on WebSocket again and how
/// long after the step's start (or its own, when later) it first polled.
struct StepObserver {
    /// One step as it happened.
    struct Window {
        /// The timeline entry's name (repetitions share it).
        var name: String
        /// When it started (log time, ms).
        var start: Double
        /// When its effect ended (log time, ms); nil when it lasted until the end of the run.
        var end: Double?
        /// The groups whose proxies it acted on (nil: every group).
        var groups: Set<String>?
        /// The clients it picked (nil: every client of the groups).
        var clients: Set<String>?
        /// The clients it targeted: those running when it started and those that started while it was in force.
        var targeted: Set<String> = []

        /// Whether the step acts on this client.
        func targets(_ id: String, group: String) -> Bool {
            (self.groups?.contains(group) ?? true) && (self.clients?.contains(id) ?? true)
        }
    }

    /// Every step of the run, by start time.
    private(set) var windows: [Window] = []
    /// Client → step → the step's end → on WebSocket again or done, scenario ms (infinite: never, its stretch
    /// reaching the end of the run).
    private(set) var recoveries: [String: [String: [Observation]]] = [:]
    /// Client → step → the step's start → first poll, scenario ms (infinite: never).
    private(set) var fallbacks: [String: [String: [Observation]]] = [:]

    /// Reads the steps and the clients' states from the log, in time order.
    init(events records: [LoggedEvent], clock: ScenarioClock) {
        self.windows = Self.windows(in: records, clock: clock)
        // Moments where a window starts or ends, starts first at the same instant.
        var moments: [(time: Double, isEnd: Bool, window: Int)] = []
        for (index, window) in self.windows.enumerated() {
            moments.append((window.start, false, index))
            if let end = window.end { moments.append((end, true, index)) }
        }
        moments.sort { ($0.time, $0.isEnd ? 1 : 0, $0.window) < ($1.time, $1.isEnd ? 1 : 0, $1.window) }
        var next = 0
        var open: Set<Int> = []
        var running: [String] = []
        var group: [String: String] = [:]
        var done: Set<String> = []
        var onWebSocket: Set<String> = []
        var awaitingRecovery: [String: [(step: String, since: Double)]] = [:]
        var awaitingFallback: [String: [(step: String, since: Double)]] = [:]
        let runEnd = records.last?.time ?? 0
        func sample(
            _ store: inout [String: [String: [Observation]]],
            _ id: String,
            _ step: String,
            since: Double,
            until time: Double?
        ) {
            let value = time.map { clock.scenarioMilliseconds(from: since, to: $0) } ?? .infinity
            store[id, default: [:]][step, default: []].append(
                Observation(value: value, start: since, end: time ?? runEnd)
            )
        }
        func reach(_ time: Double) {
            while next < moments.count, moments[next].time <= time {
                let moment = moments[next]
                next += 1
                let window = self.windows[moment.window]
                if !moment.isEnd {
                    open.insert(moment.window)
                    let targeted = running.filter { id in
                        !done.contains(id) && window.targets(id, group: group[id] ?? "")
                    }
                    self.windows[moment.window].targeted = Set(targeted)
                    for id in targeted { awaitingFallback[id, default: []].append((window.name, moment.time)) }
                } else {
                    open.remove(moment.window)
                    for id in window.targeted.sorted() where !done.contains(id) {
                        if onWebSocket.contains(id) {
                            sample(&self.recoveries, id, window.name, since: moment.time, until: moment.time)
                        } else {
                            awaitingRecovery[id, default: []].append((window.name, moment.time))
                        }
                    }
                }
            }
        }
        for record in records {
            reach(record.time)
            let event: ClientEvent
            switch record.event {
            case .run(.clientStarted(let id, let name, _, _)):
                running.append(id)
                group[id] = name.isEmpty ? "external" : name
                // A client that starts while a step is in force is targeted from its start.
                for index in open.sorted() where self.windows[index].targets(id, group: group[id]!) {
                    self.windows[index].targeted.insert(id)
                    awaitingFallback[id, default: []].append((self.windows[index].name, record.time))
                }
                continue
            case .client(let clientEvent) where !clientEvent.clientId.isEmpty:
                event = clientEvent
            case .client, .run, .server, .unknown:
                continue
            }
            let id = event.clientId
            switch event.kind {
            case .connected:
                onWebSocket.insert(id)
                for pending in awaitingRecovery.removeValue(forKey: id) ?? [] {
                    sample(&self.recoveries, id, pending.step, since: pending.since, until: record.time)
                }
            case .closed:
                onWebSocket.remove(id)
            case .poll:
                for pending in awaitingFallback.removeValue(forKey: id) ?? [] {
                    sample(&self.fallbacks, id, pending.step, since: pending.since, until: record.time)
                }
            case .finished:
                // A client whose job ended had nothing left to recover for or to fall back to.
                done.insert(id)
                onWebSocket.remove(id)
                for pending in awaitingRecovery.removeValue(forKey: id) ?? [] {
                    sample(&self.recoveries, id, pending.step, since: pending.since, until: record.time)
                }
                awaitingFallback.removeValue(forKey: id)
            case .connectAttempt, .connectFailed, .reconnectAttempt, .fallback, .stateSync, .recovered, .delivered,
                .duplicateDropped, .stopped, .suspended, .resumed:
                break
            }
        }
        reach(records.last?.time ?? 0)
        for (id, pending) in awaitingRecovery {
            for step in pending { sample(&self.recoveries, id, step.step, since: step.since, until: nil) }
        }
        for (id, pending) in awaitingFallback {
            for step in pending { sample(&self.fallbacks, id, step.step, since: step.since, until: nil) }
        }
    }

    /// The messages a client lost (their publication times) that fall in a window of `step` targeting it: their
    /// publication times.
    func lost(by client: String, publishedAt times: [Double], in step: String, runEnd: Double) -> [Double] {
        var lost: [Double] = []
        for window in self.windows where window.name == step && window.targeted.contains(client) {
            let end = window.end ?? runEnd
            lost += times.filter { $0 >= window.start && $0 <= end }
        }
        return lost
    }

    /// Every step's window, read from the run's own events (each carries its timeline entry's name as `step`).
    private static func windows(in records: [LoggedEvent], clock: ScenarioClock) -> [Window] {
        var windows: [Window] = []
        var openFaults: [String: Int] = [:]
        var openProfiles: [String: Int] = [:]
        /// A step's groups; none listed is every group.
        func targets(_ groups: [String]) -> Set<String>? {
            groups.isEmpty ? nil : Set(groups)
        }
        func clients(_ value: JSONValue?) -> Set<String>? {
            guard case .array(let values)? = value else { return nil }
            return Set(values.compactMap(\.stringValue))
        }
        /// A step's length as written (scenario time), played.
        func played(_ text: String) -> Double {
            clock.played(milliseconds: (Duration(parsing: text) ?? .zero).milliseconds)
        }
        for record in records {
            guard case .run(let event) = record.event else { continue }
            let time = record.time
            switch event {
            case .faultApplied(_, let step, let name, _, _, _, let groups, let fault):
                guard !step.isEmpty else { continue }
                var picked: JSONValue? = nil
                if case .object(let members) = fault { picked = members["clients"] }
                openFaults[name] = windows.count
                windows.append(Window(name: step, start: time, groups: targets(groups), clients: clients(picked)))
            case .faultLifted(let name, _, let healing):
                guard let index = openFaults.removeValue(forKey: name), !healing else { continue }
                windows[index].end = time
            case .handoff(_, let step, _, let blackout, _, let groups, _):
                guard !step.isEmpty else { continue }
                windows.append(Window(name: step, start: time, end: time + played(blackout), groups: targets(groups)))
            case .serverRestart(_, let step, let downtime):
                guard !step.isEmpty else { continue }
                windows.append(Window(name: step, start: time, end: time + played(downtime)))
            case .clientsSuspended(_, let step, let picked, let lasting):
                guard !step.isEmpty else { continue }
                windows.append(Window(name: step, start: time, end: time + played(lasting), clients: Set(picked)))
            case .profile(_, let step, _, let groups):
                // A profile step is logged twice: when it is set and when the scenario's own comes back.
                guard !step.isEmpty else { continue }
                if let index = openProfiles.removeValue(forKey: step) {
                    windows[index].end = time
                } else {
                    openProfiles[step] = windows.count
                    windows.append(Window(name: step, start: time, groups: targets(groups)))
                }
            case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
                .clientKilled, .clientOutputMalformed, .faultNotApplied, .serverStarted, .serverReady, .serverExited,
                .publicationsUnknown, .harnessLag, .runEnded:
                continue
            }
        }
        return windows
    }
}
