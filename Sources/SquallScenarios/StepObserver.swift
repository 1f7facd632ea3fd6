import SquallFaults
import SquallReferenceClient

/// The per-step metrics (``Metric/stepRecovery``, ``Metric/stepFallback``, ``Metric/stepLostMessages``) read from
/// the event log: each timeline step's window as the log shows it, the clients it targeted (running when it started,
/// or started while it was in force), and per client how long after the step's end it was on WebSocket again and how
/// long after the step's start (or its own, when later) it first polled.
struct StepObserver: Sendable {
    /// One step as it happened.
    struct Window: Sendable {
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

    /// A moment where a window starts or ends.
    private struct Moment: Comparable, Sendable {
        var time: Double
        var isEnd: Bool
        var window: Int

        /// Earlier first; at one instant starts before ends, then in the order the steps began.
        static func < (left: Moment, right: Moment) -> Bool {
            (left.time, left.isEnd ? 1 : 0, left.window) < (right.time, right.isEnd ? 1 : 0, right.window)
        }
    }

    /// Every step of the run, by start time.
    private(set) var windows: [Window] = []
    /// Client → step → the step's end → on WebSocket again or done, scenario ms (infinite: never, its stretch
    /// reaching the end of the run).
    private(set) var recoveries: [String: [String: [Observation]]] = [:]
    /// Client → step → the step's start → first poll, scenario ms (infinite: never).
    private(set) var fallbacks: [String: [String: [Observation]]] = [:]

    private let clock: ScenarioClock
    /// Starts and ends not reached yet, in order.
    private var moments: [Moment] = []
    private var open: Set<Int> = []
    private var running: [String] = []
    private var group: [String: String] = [:]
    private var done: Set<String> = []
    private var onWebSocket: Set<String> = []
    private var awaitingRecovery: [String: [(step: String, since: Double)]] = [:]
    private var awaitingFallback: [String: [(step: String, since: Double)]] = [:]
    /// The window of each fault in force, by fault name.
    private var openFaults: [String: Int] = [:]
    /// The window of each profile step in force, by step name.
    private var openProfiles: [String: Int] = [:]

    /// An observer that has seen nothing yet.
    init(clock: ScenarioClock) {
        self.clock = clock
    }

    /// Follows the events of one instant (one time, in log order): first the steps that start or end then, then
    /// every moment up to it, then the clients' events.
    mutating func add(instant events: ArraySlice<LoggedEvent>) {
        guard let time = events.first?.time else { return }
        for record in events {
            if case .run(let event) = record.event { self.register(event, at: time) }
        }
        self.reach(time)
        for record in events { self.observe(record) }
    }

    /// Ends the observation at the end of the run: a client still awaiting a recovery or a fallback never had it.
    mutating func finish(runEnd: Double) {
        for (id, pending) in self.awaitingRecovery {
            for step in pending {
                self.sample(\.recoveries, id, step.step, since: step.since, until: nil, runEnd: runEnd)
            }
        }
        for (id, pending) in self.awaitingFallback {
            for step in pending {
                self.sample(\.fallbacks, id, step.step, since: step.since, until: nil, runEnd: runEnd)
            }
        }
        self.awaitingRecovery = [:]
        self.awaitingFallback = [:]
    }

    private mutating func sample(
        _ store: WritableKeyPath<StepObserver, [String: [String: [Observation]]]>,
        _ id: String,
        _ step: String,
        since: Double,
        until time: Double?,
        runEnd: Double = 0
    ) {
        let value = time.map { self.clock.scenarioMilliseconds(from: since, to: $0) } ?? .infinity
        self[keyPath: store][id, default: [:]][step, default: []].append(
            Observation(value: value, start: since, end: time ?? runEnd)
        )
    }

    /// Takes every start and end up to `time`, in order.
    private mutating func reach(_ time: Double) {
        while let moment = self.moments.first, moment.time <= time {
            self.moments.removeFirst()
            let window = self.windows[moment.window]
            if !moment.isEnd {
                self.open.insert(moment.window)
                let targeted = self.running.filter { id in
                    !self.done.contains(id) && window.targets(id, group: self.group[id] ?? "")
                }
                self.windows[moment.window].targeted = Set(targeted)
                for id in targeted { self.awaitingFallback[id, default: []].append((window.name, moment.time)) }
            } else {
                self.open.remove(moment.window)
                for id in window.targeted.sorted() where !self.done.contains(id) {
                    if self.onWebSocket.contains(id) {
                        self.sample(\.recoveries, id, window.name, since: moment.time, until: moment.time)
                    } else {
                        self.awaitingRecovery[id, default: []].append((window.name, moment.time))
                    }
                }
            }
        }
    }

    private mutating func schedule(_ moment: Moment) {
        let index = self.moments.firstIndex { moment < $0 } ?? self.moments.count
        self.moments.insert(moment, at: index)
    }

    private mutating func observe(_ record: LoggedEvent) {
        let event: ClientEvent
        switch record.event {
        case .run(.clientStarted(let id, let name, _, _)):
            self.running.append(id)
            let group = name.isEmpty ? "external" : name
            self.group[id] = group
            // A client that starts while a step is in force is targeted from its start.
            for index in self.open.sorted() where self.windows[index].targets(id, group: group) {
                self.windows[index].targeted.insert(id)
                self.awaitingFallback[id, default: []].append((self.windows[index].name, record.time))
            }
            return
        case .client(let clientEvent) where !clientEvent.clientId.isEmpty:
            event = clientEvent
        case .client, .run, .server, .unknown:
            return
        }
        let id = event.clientId
        switch event.kind {
        case .connected:
            self.onWebSocket.insert(id)
            for pending in self.awaitingRecovery.removeValue(forKey: id) ?? [] {
                self.sample(\.recoveries, id, pending.step, since: pending.since, until: record.time)
            }
        case .closed:
            self.onWebSocket.remove(id)
        case .poll:
            for pending in self.awaitingFallback.removeValue(forKey: id) ?? [] {
                self.sample(\.fallbacks, id, pending.step, since: pending.since, until: record.time)
            }
        case .finished:
            // A client whose job ended had nothing left to recover for or to fall back to.
            self.done.insert(id)
            self.onWebSocket.remove(id)
            for pending in self.awaitingRecovery.removeValue(forKey: id) ?? [] {
                self.sample(\.recoveries, id, pending.step, since: pending.since, until: record.time)
            }
            self.awaitingFallback.removeValue(forKey: id)
        case .connectAttempt, .connectFailed, .reconnectAttempt, .fallback, .steppedDown, .stateSync, .recovered,
            .delivered, .duplicateDropped, .stopped, .suspended, .resumed:
            break
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

    /// Opens or closes the window of a step the run logged at `time` (each event carries its timeline entry's name
    /// as `step`).
    private mutating func register(_ event: RunnerEvent, at time: Double) {
        /// A step's groups; none listed is every group.
        func targets(_ groups: [String]) -> Set<String>? {
            groups.isEmpty ? nil : Set(groups)
        }
        /// A step's length as written (scenario time), played.
        func played(_ text: String) -> Double {
            self.clock.played(milliseconds: (Duration(parsing: text) ?? .zero).milliseconds)
        }
        switch event {
        case .faultApplied(_, let step, let name, _, _, _, let groups, let fault):
            guard !step.isEmpty else { return }
            var picked: Set<String>? = nil
            if case .object(let members) = fault, case .array(let values)? = members["clients"] {
                picked = Set(values.compactMap(\.stringValue))
            }
            self.openFaults[name] = self.windows.count
            self.begin(Window(name: step, start: time, groups: targets(groups), clients: picked))
        case .faultLifted(let name, _, let healing):
            guard let index = self.openFaults.removeValue(forKey: name), !healing else { return }
            self.windows[index].end = time
            self.schedule(Moment(time: time, isEnd: true, window: index))
        case .handoff(_, let step, _, let blackout, _, let groups, _):
            guard !step.isEmpty else { return }
            self.begin(Window(name: step, start: time, end: time + played(blackout), groups: targets(groups)))
        case .serverRestart(_, let step, let downtime):
            guard !step.isEmpty else { return }
            self.begin(Window(name: step, start: time, end: time + played(downtime)))
        case .clientsSuspended(_, let step, let picked, let lasting):
            guard !step.isEmpty else { return }
            self.begin(Window(name: step, start: time, end: time + played(lasting), clients: Set(picked)))
        case .profile(_, let step, _, let groups):
            // A profile step is logged twice: when it is set and when the scenario's own comes back.
            guard !step.isEmpty else { return }
            if let index = self.openProfiles.removeValue(forKey: step) {
                self.windows[index].end = time
                self.schedule(Moment(time: time, isEnd: true, window: index))
            } else {
                self.openProfiles[step] = self.windows.count
                self.begin(Window(name: step, start: time, groups: targets(groups)))
            }
        case .scenario, .clientStarted, .clientFailedToStart, .clientProcess, .clientExited, .clientTerminated,
            .clientKilled, .clientOutputMalformed, .faultNotApplied, .serverStarted, .serverReady, .serverExited,
            .publicationsUnknown, .harnessLag, .runEnded:
            return
        }
    }

    /// Adds a window and the moments it starts and (when known) ends.
    private mutating func begin(_ window: Window) {
        let index = self.windows.count
        self.windows.append(window)
        self.schedule(Moment(time: window.start, isEnd: false, window: index))
        if let end = window.end { self.schedule(Moment(time: end, isEnd: true, window: index)) }
    }
}
