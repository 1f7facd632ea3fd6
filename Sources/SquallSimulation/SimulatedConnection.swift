import SquallFaults
import SquallReferenceProtocol

/// One TCP connection through a group's simulated proxy: a client's WebSocket or one HTTP request. It carries
/// messages each way through the faults' rules (as the proxy's stages carry them out) and the profile, in order (one
/// TCP stream per direction), and tells both ends when it is cut.
final class SimulatedConnection: RuleChainHost {
    /// How the connection ended for an end that did not close it itself.
    enum Ending: Equatable {
        /// A reset (RST): `connection reset`.
        case reset
        /// An orderly close (FIN) without a WebSocket close frame.
        case closed

        /// Why the server's end of a stream (a WebSocket's or an event stream's) ended when the client's side did,
        /// as the real server's reader words it.
        var serverReason: String {
            switch self {
            case .reset: FailureReason.connectionLost(cause: .reset).description
            case .closed: FailureReason.clientDisconnected.description
            }
        }
    }

    /// The connection's number within its proxy.
    let serial: UInt64
    /// The client and the connection's ordinal among its connections, for toxicity draws and client targets.
    let origin: ConnectionOrigin
    /// When it was opened (virtual ms).
    let openedAt: Double
    unowned let proxy: SimulatedProxy
    /// Whether it still carries anything.
    private(set) var isOpen = true
    /// The fault (or handoff) that silenced it: it stays open and delivers nothing.
    private(set) var silencedBy: String?
    /// Called when the connection is cut under the client / the server (not when that end closed it).
    var clientLost: (Ending) -> Void = { _ in }
    var serverLost: (Ending) -> Void = { _ in }
    /// Ends the WebSocket the proxy's way (`close_after_frames`): a close frame with the code to both ends; nil
    /// (and for 1006, which is never sent) the connection is cut.
    var webSocketClose: ((Int) -> Void)?
    /// When a byte last reached the proxy from either end, for `idle_timeout` (as the proxy counts it: on arrival).
    var lastActivity: Double
    private var lastDelivery = DirectionTimes()
    private var busyUntil = DirectionTimes()
    private var random: [String: SeededRandom] = [:]
    /// Each direction's faults, carried out (made when a fault first acts on it).
    private var chains: [FaultDirection: SimulatedRuleChain] = [:]
    /// Each request fault's rule on this connection, by fault name.
    private var requestRules: [String: RequestRule] = [:]
    /// While set (`buffer_after_101`), frames toward the client are held and released together every `interval`
    /// ms counted from `since`.
    var bursts: (since: Double, interval: Double)?
    /// What `limit_time` and `idle_timeout` decide for this connection (their rule, shared with the proxy).
    var limits = ConnectionLimitRule([])
    /// Counts the connection's limit checks: only the latest one scheduled runs.
    var limitCheck = 0

    init(serial: UInt64, origin: ConnectionOrigin, openedAt: Double, proxy: SimulatedProxy) {
        self.serial = serial
        self.origin = origin
        self.openedAt = openedAt
        self.lastActivity = openedAt
        self.proxy = proxy
    }

    /// The seeded generator of one fault's choices on one direction of this connection.
    func random(for fault: String, _ direction: FaultDirection) -> SeededRandom {
        self.random["\(fault)/\(direction.rawValue)"]
            ?? self.proxy.seeds.stream(
                proxy: self.proxy.name,
                connection: self.origin.key,
                direction: direction,
                fault: fault
            )
    }

    /// Draws a uniform value in `range` from the generator of `fault` on `direction`.
    func draw(_ range: ClosedRange<Double>, fault: String, _ direction: FaultDirection) -> Double {
        guard range.lowerBound < range.upperBound else { return range.lowerBound }
        var generator = self.random(for: fault, direction)
        defer { self.random["\(fault)/\(direction.rawValue)"] = generator }
        return Double.random(in: range, using: &generator)
    }

    /// Sends `size` bytes of `traffic` in `direction`; `deliver` runs when they arrive, unless the faults drop
    /// them or the connection is cut first. The faults acting on the direction are their rules, carried out by the
    /// direction's ``SimulatedRuleChain``; the profile's link comes after them.
    func send(_ direction: FaultDirection, size: Int, _ traffic: SimulatedTraffic, deliver: @escaping () -> Void) {
        guard self.isOpen, self.silencedBy == nil else { return }
        let scheduler = self.proxy.scheduler
        self.lastActivity = scheduler.now
        if self.proxy.profile?.offline == true { return }
        let faults = self.proxy.chainFaults(on: self, direction)
        // Most messages meet no fault: nothing to carry out.
        if faults.isEmpty && self.chains[direction]?.isEmpty != false {
            return self.arrive(direction, size: size, at: scheduler.now, deliver: deliver)
        }
        let chain = self.chain(direction)
        chain.apply(faults)
        chain.send(
            SimulatedRuleChain.Message(size: size, traffic: traffic) { [self] time in
                self.arrive(direction, size: size, at: time, deliver: deliver)
            }
        )
    }

    /// The chain of `direction`, made on first use.
    private func chain(_ direction: FaultDirection) -> SimulatedRuleChain {
        if let chain = self.chains[direction] { return chain }
        let chain = SimulatedRuleChain(direction: direction, connection: self)
        self.chains[direction] = chain
        return chain
    }

    /// A message left the faults at `time`: the profile's link, then delivery in order.
    private func arrive(_ direction: FaultDirection, size: Int, at time: Double, deliver: @escaping () -> Void) {
        guard self.isOpen, self.silencedBy == nil else { return }
        let scheduler = self.proxy.scheduler
        var due = max(time, scheduler.now)
        if let link = self.proxy.profile.map({ direction == .upstream ? $0.upstream : $0.downstream }) {
            let spread = link.jitter.simulationMilliseconds
            due += link.latency.simulationMilliseconds + self.draw(-spread...spread, fault: "profile", direction)
            if let rate = link.bytesPerSecond, rate > 0 {
                due = max(due, self.serialise(size, from: time, bytesPerSecond: Double(rate), direction))
            }
        }
        due = max(due, self.lastDelivery[direction])
        if direction == .downstream, let bursts = self.bursts {
            // Held to the next release of the buffer.
            due = bursts.since + ((due - bursts.since) / bursts.interval).rounded(.up) * bursts.interval
        }
        self.lastDelivery[direction] = due
        scheduler.schedule(at: due) { [self] in
            guard self.isOpen, self.silencedBy == nil else { return }
            deliver()
        }
    }

    /// The faults changed: each direction's chain follows (a fault gone lets what it held through at once).
    func faultsChanged() {
        for direction in [FaultDirection.upstream, .downstream] {
            let faults = self.proxy.chainFaults(on: self, direction)
            if faults.isEmpty && self.chains[direction] == nil { continue }
            self.chain(direction).apply(faults)
        }
    }

    /// Serialises `size` bytes at `bytesPerSecond` on the profile's link of `direction`, behind what is already on
    /// it, from `time`; returns when the last byte leaves (virtual ms).
    func serialise(_ size: Int, from time: Double, bytesPerSecond: Double, _ direction: FaultDirection) -> Double {
        let done = max(time, self.busyUntil[direction]) + Double(size) / bytesPerSecond * 1_000
        self.busyUntil[direction] = done
        return done
    }

    /// The simulation's clock.
    var scheduler: SimulationScheduler { self.proxy.scheduler }

    /// What the request fault `fault` does with a request on this connection: its ``RequestRule``, kept per fault
    /// with its generator (the upstream direction's, as the proxy draws it); `count` counts a match proxy-wide.
    func decide(
        _ fault: Fault,
        method: String,
        target: String,
        isUpgrade: Bool,
        count: () -> Int
    ) -> RequestRule.Decision {
        var rule =
            self.requestRules[fault.name] ?? RequestRule(fault.effect, random: self.random(for: fault.name, .upstream))
        rule.configure(fault.effect)
        defer { self.requestRules[fault.name] = rule }
        return rule.decide(method: method, target: target, isUpgrade: isUpgrade, count: count)
    }

    /// Closes the connection as a fault's rule decided: a cut with a FIN or an RST.
    func close(by decision: StreamDecision.Close) {
        switch decision {
        case .fin: self.cut(.closed)
        case .reset: self.cut(.reset)
        }
    }

    /// Cuts the connection under both ends (a fault, a handoff): each end learns of it as `ending`.
    func cut(_ ending: Ending) {
        guard self.isOpen else { return }
        self.close()
        self.clientLost(ending)
        self.serverLost(ending)
    }

    /// Ends a WebSocket with `code` as a proxy does: close frames to both ends, or a cut for 1006.
    func endWebSocket(code: Int) {
        guard self.isOpen else { return }
        if code != 1006, let close = self.webSocketClose {
            close(code)
        } else {
            self.cut(.closed)
        }
    }

    /// Delivers nothing more either way; both ends keep the socket open (a half-open connection).
    func silence(by cause: String) {
        guard self.isOpen, self.silencedBy == nil else { return }
        self.silencedBy = cause
    }

    /// Closed by one of its ends (or cut): nothing more is delivered.
    func close() {
        guard self.isOpen else { return }
        self.isOpen = false
        self.proxy.forget(self)
    }
}

/// A time per direction of a connection (0 until set): two fields, not a dictionary, for a million connections.
private struct DirectionTimes {
    private var upstream: Double = 0
    private var downstream: Double = 0

    subscript(direction: FaultDirection) -> Double {
        get {
            switch direction {
            case .upstream: self.upstream
            case .downstream: self.downstream
            }
        }
        set {
            switch direction {
            case .upstream: self.upstream = newValue
            case .downstream: self.downstream = newValue
            }
        }
    }
}
