import NIOCore
import SquallFaults

/// `slow_close`: data passes at once; the end of the stream is held back by `delay`.
final class SlowCloseStage: FaultStage {
    private var heldEnd: StreamItem?
    private var timer: Scheduled<Void>?

    override func process(_ item: StreamItem) {
        guard case .end = item, case .slowClose(let delay) = self.fault.effect, delay > .zero else {
            return self.emit(item)
        }
        self.heldEnd = item
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondCount)) { [self] in
            self.timer = nil
            if let end = self.heldEnd {
                self.heldEnd = nil
                self.emit(end)
            }
        }
    }

    override func drain() -> [StreamItem] {
        self.timer?.cancel()
        self.timer = nil
        defer { self.heldEnd = nil }
        return self.heldEnd.map { [$0] } ?? []
    }

    override func cancel() {
        _ = self.drain()
    }
}
