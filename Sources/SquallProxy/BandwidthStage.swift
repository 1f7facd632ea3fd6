import NIOCore
import SquallFaults

/// `bandwidth`: paces bytes through a ``TokenBucket``; a rate of zero holds everything until the fault changes or
/// is lifted.
final class BandwidthStage: FaultStage {
    private var queue = CircularBuffer<StreamItem>()
    private var timer: Scheduled<Void>?
    private var bucket: TokenBucket

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        guard case .bandwidth(let rate, let burst) = fault.effect else {
            preconditionFailure("BandwidthStage needs a bandwidth fault")
        }
        self.bucket = TokenBucket(
            bytesPerSecond: rate,
            burst: burst,
            now: Int64(NIODeadline.now().uptimeNanoseconds)
        )
        super.init(fault: fault, isActive: isActive, context: context)
    }

    override func process(_ item: StreamItem) {
        self.queue.append(item)
        if self.timer == nil {
            self.pump()
        }
    }

    override func configurationChanged(becameActive: Bool) {
        guard case .bandwidth(let rate, let burst) = self.fault.effect else { return }
        self.bucket.reconfigure(bytesPerSecond: rate, burst: burst, now: Int64(NIODeadline.now().uptimeNanoseconds))
        self.timer?.cancel()
        self.timer = nil
        self.pump()
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
        while let head = self.queue.first {
            guard case .data(var buffer, let receivedAt, let unit) = head else {
                self.queue.removeFirst()
                self.emit(head)
                continue
            }
            switch self.bucket.take(wanted: buffer.readableBytes, now: Int64(NIODeadline.now().uptimeNanoseconds)) {
            case .send(let count):
                if count == buffer.readableBytes {
                    self.queue.removeFirst()
                    self.emit(head)
                } else {
                    let piece = buffer.readSlice(length: count)!
                    self.queue[self.queue.startIndex] = .data(buffer, receivedAt: receivedAt, unit: unit)
                    self.emit(.data(piece, receivedAt: receivedAt, unit: unit))
                }
            case .wait(let nanoseconds):
                self.timer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
                    self.timer = nil
                    self.pump()
                }
                return
            case .paused:
                return
            }
        }
    }
}
