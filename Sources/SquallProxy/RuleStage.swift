import NIOCore
import NIOHTTP1
import NIOWebSocket
import SquallFaults

/// A fault's rule (``StreamRule``) carried out on a live connection: every fault that acts on the units of a
/// direction is this one stage, which feeds the rule what arrives and does what it decides — passing (pieces of)
/// units on at their times in order, dropping them, closing the connection, waking the rule on a timer. The fault's
/// meaning is the rule's alone; the simulator carries the same rule in virtual time.
final class RuleStage: FaultStage {
    private var rule: StreamRule
    /// Units the rule has not wholly decided on yet, oldest first (the head may be partly passed).
    private var undecided = CircularBuffer<StreamItem>()
    /// The end of the stream, while the rule has not decided on it.
    private var heldEnd: StreamItem?
    /// What was passed, released at its due time in order.
    private var queue: OrderedDelayQueue!
    private var wakeTimer: Scheduled<Void>?

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        let now = NIODeadline.now()
        self.rule = StreamRule(fault.effect, random: context.random, at: Self.time(now))
        super.init(fault: fault, isActive: isActive, context: context)
        self.queue = OrderedDelayQueue(eventLoop: context.eventLoop) { [unowned self] item, due in
            self.emit(Self.stamped(item, at: due))
        }
        if isActive { self.perform(self.rule.receive(.configured(fault.effect, at: Self.time(now)))) }
    }

    override func process(_ item: StreamItem) {
        switch item {
        case .data(let buffer, let receivedAt, let unit):
            self.undecided.append(item)
            let input = StreamInput.unit(
                StreamUnit(size: buffer.readableBytes, kind: Self.kind(of: unit)),
                at: Self.time(receivedAt)
            )
            self.perform(self.rule.receive(input))
        case .end:
            self.heldEnd = item
            self.perform(self.rule.receive(.end(at: Self.time(.now()))))
        }
    }

    override func configurationChanged(becameActive: Bool) {
        self.perform(self.rule.receive(.configured(self.fault.effect, at: Self.time(.now()))))
    }

    override func drain() -> [StreamItem] {
        self.wakeTimer?.cancel()
        self.wakeTimer = nil
        var items = self.queue.drain() + Array(self.undecided)
        if let end = self.heldEnd { items.append(end) }
        self.undecided.removeAll()
        self.heldEnd = nil
        return items
    }

    override func cancel() {
        _ = self.drain()
    }

    /// Does what the rule decided.
    private func perform(_ decisions: [StreamDecision]) {
        for decision in decisions {
            switch decision {
            case .pass(let bytes, let time):
                guard case .data(var buffer, let receivedAt, let unit)? = self.undecided.first else { continue }
                let due = Self.deadline(time)
                if let bytes, bytes < buffer.readableBytes {
                    let piece = buffer.readSlice(length: bytes)!
                    self.undecided[self.undecided.startIndex] = .data(buffer, receivedAt: receivedAt, unit: unit)
                    self.queue.add(.data(piece, receivedAt: receivedAt, unit: unit), due: due)
                } else {
                    self.undecided.removeFirst()
                    self.queue.add(.data(buffer, receivedAt: receivedAt, unit: unit), due: due)
                }
            case .drop:
                if let item = self.undecided.popFirst() { self.chain.discard(item) }
            case .passEnd(let time):
                guard let end = self.heldEnd else { continue }
                self.heldEnd = nil
                self.queue.add(end, due: Self.deadline(time))
            case .dropEnd:
                if let end = self.heldEnd { self.chain.discard(end) }
                self.heldEnd = nil
            case .wake(let time):
                self.wakeTimer?.cancel()
                self.wakeTimer = self.eventLoop.assumeIsolated().scheduleTask(deadline: Self.deadline(time)) {
                    [self] in
                    self.wakeTimer = nil
                    guard self.isLinked, self.isActive else { return }
                    self.perform(self.rule.receive(.timer(at: Self.time(.now()))))
                }
            case .close(let mode):
                self.chain.connection.close(
                    mode: mode == .reset ? .reset : .fin,
                    reason: "\(self.fault.type.rawValue) \(self.fault.name)"
                )
            case .closeWebSocket(let code):
                self.chain.connection.closeWebSocket(
                    code: code,
                    reason: "\(self.fault.type.rawValue) \(self.fault.name)"
                )
            }
        }
    }

    /// A passed unit is stamped with its due time, so a fault after this one measures from when it left this one.
    private static func stamped(_ item: StreamItem, at due: NIODeadline) -> StreamItem {
        guard case .data(let buffer, _, let unit) = item else { return item }
        return .data(buffer, receivedAt: due, unit: unit)
    }

    /// The rule's time for a deadline: the uptime clock's nanoseconds.
    static func time(_ deadline: NIODeadline) -> Duration {
        .nanoseconds(Int64(clamping: deadline.uptimeNanoseconds))
    }

    /// The deadline for a rule's time.
    static func deadline(_ time: Duration) -> NIODeadline {
        .uptimeNanoseconds(UInt64(max(0, time.nanosecondCount)))
    }

    /// What a unit is, as faults see it.
    static func kind(of unit: ProtocolUnit) -> StreamUnit.Kind {
        switch unit {
        case .bytes, .upgradeResponse, .proxyAnswer:
            return .bytes
        case .request(let head):
            return .request(method: head.method.rawValue, target: head.uri)
        case .frame(let opcode):
            switch opcode {
            case .text: return .frame(.text)
            case .binary: return .frame(.binary)
            case .continuation: return .frame(.continuation)
            case .connectionClose: return .frame(.close)
            case .ping: return .frame(.ping)
            case .pong: return .frame(.pong)
            default: return .frame(.binary)
            }
        case .eventBlock(let isEvent):
            return .eventBlock(isEvent: isEvent)
        }
    }
}
