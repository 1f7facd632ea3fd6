import NIOCore
import NIOHTTP1
import SquallFaults

/// `delay_requests` and `delay_frames`: holds each matching request or frame for a delay, measured from when the
/// proxy received it; everything behind it waits too, so order is kept.
final class MessageDelayStage: FaultStage {
    private var queue: OrderedDelayQueue!

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        super.init(fault: fault, isActive: isActive, context: context)
        self.queue = OrderedDelayQueue(eventLoop: context.eventLoop) { [unowned self] item, _ in
            self.emit(item)
        }
    }

    override func process(_ item: StreamItem) {
        if case .data(_, let receivedAt, let unit) = item, let delay = self.delay(for: unit) {
            self.queue.add(item, due: receivedAt + .nanoseconds(delay.nanosecondCount))
        } else {
            self.queue.add(item, due: .now())
        }
    }

    override func drain() -> [StreamItem] {
        self.queue.drain()
    }

    override func cancel() {
        _ = self.queue.drain()
    }

    private func delay(for unit: ProtocolUnit) -> Duration? {
        switch (self.fault.effect, unit) {
        case (.delayFrames(let delay), .frame):
            return delay
        case (.delayRequests(let delay, let match), .request(let head))
        where match.matches(method: head.method.rawValue, uri: head.uri):
            return delay
        default:
            return nil
        }
    }
}
