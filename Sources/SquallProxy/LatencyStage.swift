import NIOCore
import SquallFaults

/// `latency`: holds each item until `receivedAt + latency ± jitter`, never reordering.
///
/// The delay is measured from when the proxy read the chunk, so a steady stream is delayed once, not cumulatively.
/// After the wait the chunk's timestamp moves to its release time, so two latency faults in a chain add up.
final class LatencyStage: FaultStage {
    private var random: SeededRandom
    private var queue: OrderedDelayQueue!

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.random = context.random
        super.init(fault: fault, isActive: isActive, context: context)
        self.queue = OrderedDelayQueue(eventLoop: context.eventLoop) { [unowned self] item, due in
            self.emit(Self.stamped(item, at: due))
        }
    }

    override func process(_ item: StreamItem) {
        guard case .latency(let delay, let jitter) = self.fault.effect else {
            return self.emit(item)
        }
        switch item {
        case .data(_, let receivedAt, _):
            let nanoseconds = LatencyPlan.delayNanoseconds(delay: delay, jitter: jitter, random: &self.random)
            self.queue.add(item, due: receivedAt + .nanoseconds(nanoseconds))
        case .end:
            self.queue.add(item, due: .now())
        }
    }

    override func drain() -> [StreamItem] {
        self.queue.drain()
    }

    override func cancel() {
        _ = self.queue.drain()
    }

    private static func stamped(_ item: StreamItem, at due: NIODeadline) -> StreamItem {
        if case .data(let buffer, _, let unit) = item {
            return .data(buffer, receivedAt: due, unit: unit)
        }
        return item
    }
}
