import NIOCore
import SquallFaults

/// `timeout` and `blackhole`: bytes in this direction are dropped, never delivered later.
///
/// `timeout` closes the connection after `timeout` without incoming data in this direction (0: never) and passes
/// the end of the stream on. `blackhole` also hides the end of the stream, so the peer sees a socket that is open
/// and silent: the half-open case. Lifting either closes the connection, because dropped bytes leave the stream
/// unusable (``FaultType/closesWhenLifted``).
final class DropStage: FaultStage {
    private var idleTimer: Scheduled<Void>?

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        super.init(fault: fault, isActive: isActive, context: context)
        if isActive {
            self.armIdleTimer()
        }
    }

    override func process(_ item: StreamItem) {
        switch item {
        case .data:
            self.chain.discard(item)
            self.armIdleTimer()
        case .end:
            if self.fault.type == .blackhole {
                self.chain.discard(item)
            } else {
                self.emit(item)
            }
        }
    }

    override func configurationChanged(becameActive: Bool) {
        self.armIdleTimer()
    }

    override func drain() -> [StreamItem] {
        self.cancel()
        return []
    }

    override func cancel() {
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }

    private func armIdleTimer() {
        self.idleTimer?.cancel()
        self.idleTimer = nil
        guard case .timeout(let idle) = self.fault.effect, idle > .zero else { return }
        self.idleTimer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(idle.nanosecondCount)) {
            [self] in
            self.idleTimer = nil
            self.chain.connection.close(mode: .fin, reason: "timeout \(self.fault.name)")
        }
    }
}
