import NIOCore
import SquallFaults

/// `slicer`: cuts each chunk into pieces (see ``SlicePlan``), each written on its own, with `delay` after each.
final class SlicerStage: FaultStage {
    private var queue = CircularBuffer<StreamItem>()
    private var timer: Scheduled<Void>?
    private var random: SeededRandom

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.random = context.random
        super.init(fault: fault, isActive: isActive, context: context)
    }

    override func process(_ item: StreamItem) {
        guard case .slicer(let average, let variation, _) = self.fault.effect else {
            return self.emit(item)
        }
        if case .data(var buffer, let receivedAt, _) = item {
            let sizes = SlicePlan.pieces(
                length: buffer.readableBytes,
                averageSize: average,
                sizeVariation: variation,
                random: &self.random
            )
            for size in sizes {
                self.queue.append(.data(buffer.readSlice(length: size)!, receivedAt: receivedAt))
            }
        } else {
            self.queue.append(item)
        }
        if self.timer == nil {
            self.pump()
        }
    }

    override func drain() -> [StreamItem] {
        self.timer?.cancel()
        self.timer = nil
        defer { self.queue.removeAll() }
        return Array(self.queue)
    }

    override func cancel() {
        _ = self.drain()
    }

    private func pump() {
        guard case .slicer(_, _, let delay) = self.fault.effect else { return }
        while let head = self.queue.popFirst() {
            self.emit(head)
            if delay > .zero, case .data = head {
                self.timer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(delay.nanosecondCount)) {
                    [self] in
                    self.timer = nil
                    self.pump()
                }
                return
            }
        }
    }
}
