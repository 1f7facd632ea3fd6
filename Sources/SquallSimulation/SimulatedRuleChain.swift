import SquallFaults

/// One direction's faults on a simulated connection, carried out in virtual time: each fault's rule
/// (``StreamRule``, the same value the proxy's stage carries out on sockets) is fed the messages that reach it, at the
/// times they reach it, and what it decides is done — pieces passed on to the next fault when due, messages dropped,
/// the connection closed, the rule woken. A message arrives when its last piece leaves the last fault.
package final class SimulatedRuleChain {
    /// A message on its way, shared by its pieces.
    package final class Message {
        /// Its size in bytes.
        package let size: Int
        /// What it is.
        package let traffic: SimulatedTraffic
        /// Runs with the time it left the last fault.
        let arrive: (Double) -> Void

        /// A message of `size` bytes of `traffic`; `arrive` runs when it has left the last fault.
        package init(size: Int, traffic: SimulatedTraffic, arrive: @escaping (Double) -> Void) {
            self.size = size
            self.traffic = traffic
            self.arrive = arrive
        }
    }

    /// A piece of a message at one fault: `bytes` of it, the last piece or not.
    private struct Piece {
        var message: Message
        var bytes: Int
        var isLast: Bool
    }

    /// One fault's place in the chain.
    private final class Slot {
        var fault: Fault
        var rule: StreamRule
        /// Pieces the rule has not wholly decided on, oldest first.
        var undecided: [Piece] = []
        /// The end of the stream (a close frame's message), while the rule has not decided on it.
        var heldEnd: Message?
        /// Nothing this fault passes leaves before this (virtual ms): it never reorders.
        var lastDue: Double = 0
        /// The wake-up that counts (earlier ones were replaced).
        var wakeToken = 0

        init(fault: Fault, rule: StreamRule) {
            self.fault = fault
            self.rule = rule
        }
    }

    private let direction: FaultDirection
    /// The connection, while it exists: a timer a rule set (a wake, a held piece's release) can outlive it, and
    /// then finds it gone — as closed.
    private weak var connection: (any RuleChainHost)?
    private let scheduler: SimulationScheduler
    private var slots: [Slot] = []

    /// The chain of `direction` on `connection`.
    package init(direction: FaultDirection, connection: any RuleChainHost) {
        self.direction = direction
        self.connection = connection
        self.scheduler = connection.scheduler
    }

    /// Whether the connection still carries anything (false once it is gone).
    private var isOpen: Bool { self.connection?.isOpen == true }

    /// Rebuilds the chain for the faults acting on this direction now, in chain order: a fault already there keeps
    /// its rule's state (told its attributes when they changed), a new one starts its rule now, and what a fault no
    /// longer there held goes on at once from where it stood.
    package func apply(_ faults: [Fault]) {
        // Only a live connection changes its faults.
        guard let connection = self.connection else { return }
        let now = self.scheduler.now
        var rebuilt: [Slot] = []
        var configure: [Slot] = []
        for fault in faults {
            if let slot = self.slots.first(where: { $0.fault.name == fault.name && $0.fault.type == fault.type }) {
                if slot.fault != fault {
                    slot.fault = fault
                    configure.append(slot)
                }
                rebuilt.append(slot)
            } else {
                let random = connection.random(for: fault.name, self.direction)
                let slot = Slot(fault: fault, rule: StreamRule(fault.effect, random: random, at: Self.time(now)))
                rebuilt.append(slot)
                configure.append(slot)
            }
        }
        let old = self.slots
        self.slots = rebuilt
        for slot in configure {
            guard let index = self.slots.firstIndex(where: { $0 === slot }) else { continue }
            self.perform(slot.rule.receive(.configured(slot.fault.effect, at: Self.time(now))), at: index)
        }
        for (oldIndex, slot) in old.enumerated() where !rebuilt.contains(where: { $0 === slot }) {
            slot.wakeToken += 1
            // Where it stood: before the first fault after it that is still there.
            let after = old[(oldIndex + 1)...].first { survivor in rebuilt.contains { $0 === survivor } }
            let position = after.flatMap { survivor in self.slots.firstIndex { $0 === survivor } } ?? self.slots.count
            let held = slot.undecided
            let end = slot.heldEnd
            slot.undecided = []
            slot.heldEnd = nil
            for piece in held { self.feed(piece, to: position, at: now) }
            if let end { self.feedEnd(end, to: position, at: now) }
        }
    }

    /// Whether the chain has no fault.
    package var isEmpty: Bool { self.slots.isEmpty }

    /// Sends a message into the chain now.
    package func send(_ message: Message) {
        let now = self.scheduler.now
        self.feed(Piece(message: message, bytes: message.size, isLast: true), to: 0, at: now)
        // A close frame is followed by the end of the stream: it takes effect when that end gets through.
        if message.traffic == .frame(.close) { self.feedEnd(message, to: 0, at: now) }
    }

    private func feed(_ piece: Piece, to index: Int, at time: Double) {
        guard self.isOpen else { return }
        guard index < self.slots.count else {
            guard piece.isLast else { return }
            if piece.message.traffic == .frame(.close) {
                self.half(piece.message, time)
            } else {
                piece.message.arrive(time)
            }
            return
        }
        let slot = self.slots[index]
        slot.undecided.append(piece)
        let unit = StreamUnit(size: piece.bytes, kind: piece.message.traffic.unitKind)
        self.perform(slot.rule.receive(.unit(unit, at: Self.time(time))), at: index)
    }

    private func feedEnd(_ message: Message, to index: Int, at time: Double) {
        guard self.isOpen else { return }
        guard index < self.slots.count else {
            self.half(message, time)
            return
        }
        let slot = self.slots[index]
        slot.heldEnd = message
        self.perform(slot.rule.receive(.end(at: Self.time(time))), at: index)
    }

    /// A close frame takes effect when both it and the end of the stream behind it have got through (a held end, as
    /// `slow_close` holds it, delays it): the half that arrived first, by message.
    private var closeHalves: [ObjectIdentifier: Double] = [:]

    private func half(_ message: Message, _ time: Double) {
        let key = ObjectIdentifier(message)
        if let other = self.closeHalves.removeValue(forKey: key) {
            message.arrive(max(time, other))
        } else {
            self.closeHalves[key] = time
        }
    }

    /// Does what the rule at `index` decided.
    private func perform(_ decisions: [StreamDecision], at index: Int) {
        guard index < self.slots.count else { return }
        let slot = self.slots[index]
        let now = self.scheduler.now
        for decision in decisions {
            switch decision {
            case .pass(let bytes, let time):
                guard var head = slot.undecided.first else { continue }
                let due = max(Self.milliseconds(time, now: now), slot.lastDue)
                slot.lastDue = due
                let piece: Piece
                if let bytes, bytes < head.bytes {
                    head.bytes -= bytes
                    slot.undecided[0] = head
                    piece = Piece(message: head.message, bytes: bytes, isLast: false)
                } else {
                    slot.undecided.removeFirst()
                    piece = head
                }
                self.forward(piece, from: slot, next: index + 1, at: due)
            case .drop:
                if !slot.undecided.isEmpty { slot.undecided.removeFirst() }
            case .passEnd(let time):
                guard let end = slot.heldEnd else { continue }
                slot.heldEnd = nil
                let due = max(Self.milliseconds(time, now: now), slot.lastDue)
                slot.lastDue = due
                self.scheduler.schedule(at: due) { [self] in
                    guard let position = self.slots.firstIndex(where: { $0 === slot }) else {
                        return self.feedEnd(end, to: index + 1, at: due)
                    }
                    self.feedEnd(end, to: position + 1, at: due)
                }
            case .dropEnd:
                // The end is swallowed: a close frame ahead of it still takes effect when the frame arrives.
                if let end = slot.heldEnd { self.half(end, now) }
                slot.heldEnd = nil
            case .wake(let time):
                slot.wakeToken += 1
                let token = slot.wakeToken
                self.scheduler.schedule(at: Self.milliseconds(time, now: now)) { [self] in
                    guard slot.wakeToken == token, let position = self.slots.firstIndex(where: { $0 === slot }),
                        self.isOpen
                    else { return }
                    self.perform(slot.rule.receive(.timer(at: Self.time(self.scheduler.now))), at: position)
                }
            case .close(let mode):
                let connection = self.connection
                self.scheduler.after(0) { connection?.close(by: mode) }
            case .closeWebSocket(let code):
                let connection = self.connection
                self.scheduler.after(0) { connection?.endWebSocket(code: code) }
            }
        }
    }

    /// Hands a piece on to the fault after `slot` when it is due.
    private func forward(_ piece: Piece, from slot: Slot, next index: Int, at due: Double) {
        if due <= self.scheduler.now {
            return self.feed(piece, to: index, at: due)
        }
        self.scheduler.schedule(at: due) { [self] in
            // The chain may have changed meanwhile: go on after this slot, wherever it now stands.
            let position = self.slots.firstIndex(where: { $0 === slot }).map { $0 + 1 } ?? index
            self.feed(piece, to: position, at: due)
        }
    }

    /// The virtual time in ms for a rule's time, never before `now`. A rule's time that is now in its own terms
    /// (nanoseconds) is exactly `now`: converting back could land a fraction of a nanosecond later, and a pass due
    /// then would run after a close the same rule decided at the same instant.
    static func milliseconds(_ time: Duration, now: Double) -> Double {
        time <= Self.time(now) ? now : time.simulationMilliseconds
    }

    /// A rule's time for a virtual time in ms.
    static func time(_ milliseconds: Double) -> Duration {
        .nanoseconds(Int64((milliseconds * 1_000_000).rounded()))
    }
}

extension SimulatedTraffic {
    /// What the message is, as faults see it.
    var unitKind: StreamUnit.Kind {
        switch self {
        case .request(_, let target): .request(method: "GET", target: target)
        case .response: .bytes
        case .frame(.text): .frame(.text)
        case .frame(.ping): .frame(.ping)
        case .frame(.pong): .frame(.pong)
        case .frame(.close): .frame(.close)
        case .eventBlock(let isEvent): .eventBlock(isEvent: isEvent)
        }
    }
}
