import SquallFaults

/// One TCP connection through a group's simulated proxy: a client's WebSocket or one HTTP request. It carries
/// messages each way with the delays, drops and holds the proxy's faults and profile give, in order (one TCP stream
/// per direction), and tells both ends when it is cut.
final class SimulatedConnection {
    /// How the connection ended for an end that did not close it itself.
    enum Ending: Equatable {
        /// A reset (RST): `connection reset`.
        case reset
        /// An orderly close (FIN) without a WebSocket close frame.
        case closed
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
    /// When a byte last passed either way, for `idle_timeout`.
    var lastActivity: Double
    private var lastDelivery: [FaultDirection: Double] = [:]
    private var busyUntil: [FaultDirection: Double] = [:]
    private var faultBusyUntil: [String: Double] = [:]
    private var bytes: [FaultDirection: Int] = [:]
    private var frames: [String: Int] = [:]
    private var random: [String: SeededRandom] = [:]
    /// `packet_loss` state (whether the last chunk was dropped) by fault and direction.
    private var chunkLoss: [String: ChunkLoss] = [:]
    /// `tcp_loss` state by fault and direction.
    private var segmentLoss: [String: SegmentLoss] = [:]
    /// While set (`buffer_after_101`), frames toward the client are held and released together every `interval`
    /// ms counted from `since`.
    var bursts: (since: Double, interval: Double)?
    /// Messages held by a paused bandwidth (`rate: 0`) until the fault is lifted, per direction.
    private var held: [(direction: FaultDirection, size: Int, traffic: SimulatedTraffic, deliver: () -> Void)] = []
    /// Faults whose once-per-connection effect (a scheduled close) has been armed.
    private var armed: Set<String> = []

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

    /// Whether `packet_loss` drops the next chunk `direction`: ``ChunkLoss``'s rule with the generator of `fault` on
    /// `direction`, as the proxy's stage draws it. Each message the simulator sends is one chunk.
    func dropsChunk(_ rule: ChunkLoss, fault: String, _ direction: FaultDirection) -> Bool {
        let key = "\(fault)/\(direction.rawValue)"
        var loss = self.chunkLoss[key] ?? rule
        var generator = self.random(for: fault, direction)
        let drops = loss.dropsNext(using: &generator)
        self.random[key] = generator
        self.chunkLoss[key] = loss
        return drops
    }

    /// What `tcp_loss` does to a message of `size` bytes going `direction`: ``SegmentLoss``'s rule with the
    /// generator of `fault` on `direction`, as the proxy's stage applies it to a chunk.
    ///
    /// - Parameter time: when the message reaches the fault, in ms of virtual time.
    func retransmit(
        _ size: Int,
        at time: Double,
        _ rule: SegmentLoss,
        fault: String,
        _ direction: FaultDirection
    ) -> SegmentLoss.Outcome {
        let key = "\(fault)/\(direction.rawValue)"
        var loss = self.segmentLoss[key] ?? rule
        var generator = self.random(for: fault, direction)
        let outcome = loss.chunk(
            bytes: size,
            arrivedAt: .microseconds(Int64((time * 1_000).rounded())),
            using: &generator
        )
        self.random[key] = generator
        self.segmentLoss[key] = loss
        return outcome
    }

    /// Draws a uniform value in `range` from the generator of `fault` on `direction`.
    func draw(_ range: ClosedRange<Double>, fault: String, _ direction: FaultDirection) -> Double {
        guard range.lowerBound < range.upperBound else { return range.lowerBound }
        var generator = self.random(for: fault, direction)
        defer { self.random["\(fault)/\(direction.rawValue)"] = generator }
        return Double.random(in: range, using: &generator)
    }

    /// Sends `size` bytes of `traffic` in `direction`; `deliver` runs when they arrive, unless the faults drop
    /// them or the connection is cut first.
    func send(_ direction: FaultDirection, size: Int, _ traffic: SimulatedTraffic, deliver: @escaping () -> Void) {
        guard self.isOpen, self.silencedBy == nil else { return }
        let scheduler = self.proxy.scheduler
        self.lastActivity = scheduler.now
        switch self.proxy.transit(self, direction, size: size, traffic) {
        case .drop:
            return
        case .hold:
            self.held.append((direction, size, traffic, deliver))
        case .after(let delay):
            var due = max(scheduler.now + delay, self.lastDelivery[direction] ?? 0)
            if direction == .downstream, let bursts = self.bursts {
                // Held to the next release of the buffer.
                due = bursts.since + ((due - bursts.since) / bursts.interval).rounded(.up) * bursts.interval
            }
            self.lastDelivery[direction] = due
            scheduler.schedule(at: due) { [self] in
                guard self.isOpen, self.silencedBy == nil else { return }
                self.lastActivity = scheduler.now
                deliver()
            }
        }
    }

    /// Sends again what a paused bandwidth held, now that the faults changed.
    func releaseHeld() {
        let waiting = self.held
        self.held = []
        for message in waiting {
            self.send(message.direction, size: message.size, message.traffic, deliver: message.deliver)
        }
    }

    /// Serialises `size` bytes at `bytesPerSecond` behind what is already queued on `direction` (a profile's
    /// link when `fault` is nil); returns when the last byte leaves, as a delay from now.
    func serialise(_ size: Int, bytesPerSecond: Double, _ direction: FaultDirection, fault: String?) -> Double {
        let now = self.proxy.scheduler.now
        let key = fault.map { "\($0)/\(direction.rawValue)" }
        let busy = key.map { self.faultBusyUntil[$0] ?? 0 } ?? (self.busyUntil[direction] ?? 0)
        let done = max(now, busy) + Double(size) / bytesPerSecond * 1_000
        if let key { self.faultBusyUntil[key] = done } else { self.busyUntil[direction] = done }
        return done - now
    }

    /// Counts bytes on `direction`; returns the total.
    func count(bytes size: Int, _ direction: FaultDirection) -> Int {
        self.bytes[direction, default: 0] += size
        return self.bytes[direction]!
    }

    /// Counts a data frame for `fault`; returns the count.
    func countFrame(for fault: String) -> Int {
        self.frames[fault, default: 0] += 1
        return self.frames[fault]!
    }

    /// Whether `fault`'s once-per-connection effect still has to be armed (and marks it armed).
    func arm(_ fault: String) -> Bool {
        self.armed.insert(fault).inserted
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
        self.held = []
    }

    /// Closed by one of its ends (or cut): nothing more is delivered.
    func close() {
        guard self.isOpen else { return }
        self.isOpen = false
        self.held = []
        self.proxy.forget(self)
    }
}
