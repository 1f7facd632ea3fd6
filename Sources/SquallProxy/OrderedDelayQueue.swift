import NIOCore

/// Holds stream items until each one's release time, never reordering them: an item is released no earlier than
/// its own time and never before the items ahead of it. Shared by the faults that delay (`latency`,
/// `delay_frames`, `delay_requests`).
///
/// Loop-bound: created and used on the connection's event loop only.
final class OrderedDelayQueue {
    private let eventLoop: any EventLoop
    private let release: (StreamItem, NIODeadline) -> Void
    private var queue = CircularBuffer<(item: StreamItem, due: NIODeadline)>()
    private var timer: Scheduled<Void>?
    private var lastDue = NIODeadline.uptimeNanoseconds(0)

    /// Creates a queue that hands each item, with its release time, to `release`.
    init(eventLoop: any EventLoop, release: @escaping (StreamItem, NIODeadline) -> Void) {
        self.eventLoop = eventLoop
        self.release = release
    }

    /// Adds an item due at `due` (moved later if an earlier item is due later); releases it at once when nothing
    /// is waiting and it is already due.
    func add(_ item: StreamItem, due: NIODeadline) {
        let due = max(due, self.lastDue)
        self.lastDue = due
        if self.queue.isEmpty && due <= .now() {
            return self.release(item, due)
        }
        self.queue.append((item, due))
        if self.timer == nil {
            self.schedule()
        }
    }

    /// Stops the timer and returns the waiting items in order.
    func drain() -> [StreamItem] {
        self.timer?.cancel()
        self.timer = nil
        defer { self.queue.removeAll() }
        return self.queue.map(\.item)
    }

    private func schedule() {
        guard let head = self.queue.first else { return }
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(deadline: head.due) { [self] in
            self.timer = nil
            let now = NIODeadline.now()
            while let first = self.queue.first, first.due <= now {
                self.queue.removeFirst()
                self.release(first.item, first.due)
            }
            if self.timer == nil {
                self.schedule()
            }
        }
    }
}

@available(*, unavailable)
extension OrderedDelayQueue: Sendable {}
