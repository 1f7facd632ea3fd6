import NIOCore
import SquallFaults

/// `delay_requests` and `delay_frames`: holds each matching request or frame for a delay, measured from when the
/// proxy received it; everything behind it waits too, so order is kept.
final class MessageDelayStage: FaultStage {
    private var queue = CircularBuffer<(item: StreamItem, due: NIODeadline)>()
    private var timer: Scheduled<Void>?

    override func process(_ item: StreamItem) {
        var due = NIODeadline.now()
        if case .data(_, let receivedAt, let unit) = item, let delay = self.delay(for: unit) {
            due = receivedAt + .nanoseconds(delay.nanosecondCount)
        }
        if let last = self.queue.last?.due {
            due = max(due, last)
        }
        if self.queue.isEmpty && due <= .now() {
            return self.emit(item)
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

    private func delay(for unit: ProtocolUnit) -> Duration? {
        switch (self.fault.effect, unit) {
        case (.delayFrames(let delay), .frame):
            return delay
        case (.delayRequests(let delay, let match), .request(let head)) where match.matches(method: head.method.rawValue, uri: head.uri):
            return delay
        default:
            return nil
        }
    }

    private func schedule() {
        guard let head = self.queue.first else { return }
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(deadline: head.due) { [self] in
            self.timer = nil
            let now = NIODeadline.now()
            while let first = self.queue.first, first.due <= now {
                self.queue.removeFirst()
                self.emit(first.item)
            }
            if self.timer == nil {
                self.schedule()
            }
        }
    }
}
