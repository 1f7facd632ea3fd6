import NIOCore
import SquallFaults

/// `latency`: holds each item until `receivedAt + latency ± jitter`, never reordering.
///
/// The delay is measured from when the proxy read the chunk, so a steady stream is delayed once, not cumulatively.
/// After the wait the chunk's timestamp moves to its release time, so two latency faults in a chain add up.
final class LatencyStage: FaultStage {
    private var queue = CircularBuffer<(item: StreamItem, due: NIODeadline)>()
    private var timer: Scheduled<Void>?
    private var lastDue = NIODeadline.uptimeNanoseconds(0)
    private var random: SeededRandom

    override init(fault: Fault, isActive: Bool, chain: FaultChain) {
        self.random = chain.makeRandom(for: fault)
        super.init(fault: fault, isActive: isActive, chain: chain)
    }

    override func process(_ item: StreamItem) {
        guard case .latency(let delay, let jitter) = self.fault.effect else {
            return self.emit(item)
        }
        var due: NIODeadline
        switch item {
        case .data(_, let receivedAt, _):
            let nanoseconds = LatencyPlan.delayNanoseconds(delay: delay, jitter: jitter, random: &self.random)
            due = receivedAt + .nanoseconds(nanoseconds)
        case .end:
            due = .now()
        }
        due = max(due, self.lastDue)
        self.lastDue = due
        if self.queue.isEmpty && due <= .now() {
            return self.emit(Self.stamped(item, at: due))
        }
        self.queue.append((item, due))
        if self.timer == nil {
            self.schedule()
        }
    }

    override func drain() -> [StreamItem] {
        self.timer?.cancel()
        self.timer = nil
        defer { self.queue.removeAll() }
        return self.queue.map(\.item)
    }

    override func cancel() {
        _ = self.drain()
    }

    private func schedule() {
        guard let head = self.queue.first else { return }
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(deadline: head.due) { [self] in
            self.timer = nil
            self.release()
        }
    }

    private func release() {
        let now = NIODeadline.now()
        while let head = self.queue.first, head.due <= now {
            self.queue.removeFirst()
            self.emit(Self.stamped(head.item, at: head.due))
        }
        if !self.queue.isEmpty && self.timer == nil {
            self.schedule()
        }
    }

    private static func stamped(_ item: StreamItem, at due: NIODeadline) -> StreamItem {
        if case .data(let buffer, _, let unit) = item {
            return .data(buffer, receivedAt: due, unit: unit)
        }
        return item
    }
}
