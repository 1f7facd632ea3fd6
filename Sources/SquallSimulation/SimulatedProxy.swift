import SquallFaults

/// A client group's proxy in the simulation: the same faults, profile and handoffs as the real proxy (`ProxyServer`), given their
/// meaning at the level of connects, HTTP requests and WebSocket frames on a virtual clock.
final class SimulatedProxy {
    /// What a new connection meets before its first byte reaches the server.
    enum Establishment {
        /// It reaches the server after this many milliseconds.
        case open(after: Double)
        /// Refused at once (`down`, an offline profile, a blackout that refuses).
        case refused
        /// Accepted, then reset (`refuse`).
        case reset
        /// Accepted and never answered (`connect_blackhole`, a blackout that black-holes).
        case hang
    }

    /// The group's name.
    let name: String
    let scheduler: SimulationScheduler
    let seeds: SeedTree
    private(set) var faults: [Fault] = []
    private(set) var profile: NetworkProfile?
    private var blackout: (until: Double, mode: Handoff.BlackoutMode)?
    private var connections: [UInt64: SimulatedConnection] = [:]
    private var serial: UInt64 = 0
    private var ordinals: [String: Int] = [:]
    /// Per fault, the connections it acted on (for `connectionsHit`).
    private var hits: [String: Set<UInt64>] = [:]
    /// Per `fail_requests` fault, matching requests so far (its `every`).
    private var requestCounts: [String: Int] = [:]

    init(name: String, scheduler: SimulationScheduler, seeds: SeedTree, profile: NetworkProfile?) {
        self.name = name
        self.scheduler = scheduler
        self.seeds = seeds
        self.profile = profile
    }

    // MARK: Faults and profiles

    /// Adds a fault (replacing one of the same name); it acts on live connections too.
    func add(_ fault: Fault) {
        self.faults.removeAll { $0.name == fault.name }
        self.faults.append(fault)
        self.hits[fault.name] = self.hits[fault.name] ?? []
        if fault.type == .down {
            // The proxy stops listening and closes every live connection, as `ProxyServer` does.
            for connection in self.liveConnections {
                self.hits[fault.name, default: []].insert(connection.serial)
                connection.cut(.closed)
            }
            return
        }
        for connection in self.liveConnections {
            self.applyLimits(on: connection)
            connection.faultsChanged()
        }
    }

    /// Removes a fault; returns how many connections it acted on.
    @discardableResult
    func remove(named name: String) -> Int {
        let removed = self.faults.first { $0.name == name }
        self.faults.removeAll { $0.name == name }
        let hit = self.hits.removeValue(forKey: name) ?? []
        for connection in self.liveConnections {
            // A connection the fault hung or black-holed is released (FIN both ways), as the proxy does.
            if connection.silencedBy == name {
                connection.cut(.closed)
                continue
            }
            connection.faultsChanged()
            self.applyLimits(on: connection)
            // Dropped bytes leave the stream unusable: lifting `timeout` or `blackhole` closes what it acted on, as
            // the proxy does (`FaultType.closesWhenLifted`).
            if removed?.type.closesWhenLifted == true, hit.contains(connection.serial) { connection.cut(.closed) }
        }
        return hit.count
    }

    /// Switches the profile for everything after (nil: plain loopback).
    func setProfile(_ profile: NetworkProfile?) {
        self.profile = profile
    }

    /// Cuts every live connection, blacks out new ones for the blackout, then switches profile; returns how many
    /// were cut.
    func handoff(_ handoff: Handoff) -> Int {
        let live = self.liveConnections
        let blackout = handoff.blackout.simulationMilliseconds
        if blackout > 0 { self.blackout = (self.scheduler.now + blackout, handoff.during) }
        for connection in live {
            switch handoff.mode {
            case .reset: connection.cut(.reset)
            case .fin: connection.cut(.closed)
            case .blackhole: connection.silence(by: "handoff")
            }
        }
        let profile = handoff.profile
        self.scheduler.after(blackout) { [self] in
            if let current = self.blackout, current.until <= self.scheduler.now { self.blackout = nil }
            if let profile { self.setProfile(profile) }
        }
        return live.count
    }

    private var liveConnections: [SimulatedConnection] {
        self.connections.keys.sorted().compactMap { self.connections[$0] }
    }

    /// The faults acting on `connection` now (their toxicity and targets pick it), in the order they were added.
    private func acting(on connection: SimulatedConnection) -> [Fault] {
        guard !self.faults.isEmpty else { return [] }
        return self.faults.filter { fault in
            fault.acts(onConnection: connection.serial, origin: connection.origin, proxy: self.name, seeds: self.seeds)
        }
    }

    /// Counts `names` as having acted on `connection` (for `connectionsHit`), as the proxy records a fault applied.
    private func hit(_ names: some Sequence<String>, on connection: SimulatedConnection) {
        for name in names { self.hits[name, default: []].insert(connection.serial) }
    }

    // MARK: Connections

    /// Opens a connection for `client`; `establishment` says what it meets.
    func connect(client: String) -> (SimulatedConnection, Establishment) {
        self.serial += 1
        self.ordinals[client, default: 0] += 1
        let connection = SimulatedConnection(
            serial: self.serial,
            origin: ConnectionOrigin(client: client, ordinal: self.ordinals[client]!),
            openedAt: self.scheduler.now,
            proxy: self
        )
        if self.profile?.offline == true { return (connection, .refused) }
        if let blackout = self.blackout, self.scheduler.now < blackout.until {
            switch blackout.mode {
            case .refuse: return (connection, .refused)
            case .blackhole:
                self.connections[connection.serial] = connection
                connection.silence(by: "handoff blackout")
                return (connection, .hang)
            }
        }
        // `down` closes the listener whatever its toxicity.
        if let down = self.faults.first(where: { $0.type == .down }) {
            self.hits[down.name, default: []].insert(connection.serial)
            return (connection, .refused)
        }
        self.connections[connection.serial] = connection
        let (decision, acted) = ConnectRule.decide(self.acting(on: connection).filter { $0.type.phase == .connect })
        self.hit(acted.map(\.name), on: connection)
        switch decision {
        case .refuse:
            connection.close()
            return (connection, .reset)
        case .blackhole(let fault):
            connection.silence(by: fault)
            return (connection, .hang)
        case .open(let delay):
            self.applyLimits(on: connection)
            connection.faultsChanged()
            return (connection, .open(after: delay.simulationMilliseconds))
        }
    }

    /// Forgets a closed connection.
    func forget(_ connection: SimulatedConnection) {
        self.connections[connection.serial] = nil
    }

    /// Follows the lifetime faults (`limit_time`, `idle_timeout`) acting on `connection` now: their rule, shared with
    /// the proxy, then a check.
    private func applyLimits(on connection: SimulatedConnection) {
        let rule = ConnectionLimitRule(self.acting(on: connection))
        self.hit(rule.acting, on: connection)
        connection.limits = rule
        self.checkLimits(on: connection)
    }

    /// Closes `connection` when its rule says so, or schedules the next check (one per connection: an earlier one
    /// is superseded).
    private func checkLimits(on connection: SimulatedConnection) {
        guard connection.isOpen else { return }
        connection.limitCheck += 1
        let now = self.scheduler.now
        // In whole microseconds: a check due a rounding error away would otherwise be scheduled at the very instant
        // it ran, again and again, without virtual time moving on. Whole steps move it on by at least one.
        func elapsed(since instant: Double) -> Duration { .microseconds(Int64(((now - instant) * 1_000).rounded())) }
        let decision = connection.limits.check(
            sinceOpen: elapsed(since: connection.openedAt),
            sinceActivity: elapsed(since: connection.lastActivity)
        )
        switch decision {
        case .close(let close, _):
            connection.close(by: close)
        case .check(let due):
            let token = connection.limitCheck
            self.scheduler.schedule(at: connection.openedAt + due.simulationMilliseconds) { [self] in
                guard connection.limitCheck == token else { return }
                self.checkLimits(on: connection)
            }
        case .none:
            break
        }
    }

    // MARK: Traffic

    /// The faults whose rules act on `direction` of `connection` now, in the proxy's chain order (message faults,
    /// then byte-stream ones), each counted as a hit. The faults whose rule decides requests answer them instead
    /// (``requestFate(_:isUpgrade:method:target:)``).
    func chainFaults(on connection: SimulatedConnection, _ direction: FaultDirection) -> [Fault] {
        guard !self.faults.isEmpty else { return [] }
        let acting = self.acting(on: connection).filter { !$0.type.decidesRequests }
        var messages: [Fault] = []
        var bytes: [Fault] = []
        for fault in acting {
            switch fault.chainPart(in: direction) {
            case .messages?: messages.append(fault)
            case .bytes?: bytes.append(fault)
            case nil: continue
            }
        }
        self.hit((messages + bytes).map(\.name), on: connection)
        return messages + bytes
    }

    /// What `block_upgrade` does once the server has accepted an upgrade.
    enum AfterUpgrade {
        /// Nothing more is delivered either way (`blackhole_after_101`), until the fault named is removed.
        case blackhole(fault: String)
        /// The server's frames are held and released together every this many ms (`buffer_after_101`).
        case buffer(interval: Double)
    }

    /// What the request faults do to a request (upgrade or job-state) on `connection`.
    enum RequestFate {
        /// It goes on to the server (`delay_requests` holds it in the chain, as any message fault): without its
        /// upgrade headers when `stripped`, without the headers `without` names (lower-cased, `strip_header`).
        case forward(stripped: Bool, afterUpgrade: AfterUpgrade?, without: Set<String>)
        /// The proxy answers with this status and message itself (and closes, for a rejected upgrade).
        case answer(status: Int, message: String)
        /// The client is reset.
        case reset
        /// It is never answered, until the fault named is removed.
        case hang(fault: String)
    }

    /// Runs the request faults (`block_upgrade`, `fail_requests`, `strip_header`) on a request: each fault's
    /// ``RequestRule``, in the proxy's order, the first answer winning.
    func requestFate(_ connection: SimulatedConnection, isUpgrade: Bool, method: String, target: String) -> RequestFate
    {
        var stripped = false
        var afterUpgrade: AfterUpgrade?
        var without: Set<String> = []
        for fault in self.acting(on: connection) where fault.type.decidesRequests {
            self.hit([fault.name], on: connection)
            let decision = connection.decide(fault, method: method, target: target, isUpgrade: isUpgrade) {
                self.requestCounts[fault.name, default: 0] += 1
                return self.requestCounts[fault.name]!
            }
            switch decision {
            case .forward: continue
            case .forwardStripped: stripped = true
            case .forwardWithout(let header):
                without.insert(header.lowercased())
                // An upgrade without its `Upgrade` or `Connection` header asks for none.
                if isUpgrade && (header.lowercased() == "upgrade" || header.lowercased() == "connection") {
                    stripped = true
                }
            case .forwardThenSilence: afterUpgrade = .blackhole(fault: fault.name)
            case .forwardThenBuffer(let interval):
                afterUpgrade = .buffer(interval: max(1, interval.simulationMilliseconds))
            case .answer(let status, let message, _): return .answer(status: status, message: message)
            case .reset: return .reset
            case .hang: return .hang(fault: fault.name)
            }
        }
        return .forward(stripped: stripped, afterUpgrade: afterUpgrade, without: without)
    }
}
