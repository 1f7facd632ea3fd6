import NIOCore
import SquallFaults

/// `reset_peer`: on the first item in its direction, drops it and everything after, waits `timeout`, then resets
/// both sockets with a real RST (SO_LINGER 0). Works on connections opened before the fault was added, and never
/// touches a connection its toxicity draw left alone.
final class ResetPeerStage: FaultStage {
    private var timer: Scheduled<Void>?
    private var triggered = false

    override func process(_ item: StreamItem) {
        self.chain.discard(item)
        guard !self.triggered, case .resetPeer(let timeout) = self.fault.effect else { return }
        self.triggered = true
        if timeout <= .zero {
            self.chain.connection.close(mode: .reset, reason: "reset_peer \(self.fault.name)")
            return
        }
        self.timer = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanosecondCount)) { [self] in
            self.timer = nil
            self.chain.connection.close(mode: .reset, reason: "reset_peer \(self.fault.name)")
        }
    }

    override func drain() -> [StreamItem] {
        self.cancel()
        return []
    }

    override func cancel() {
        self.timer?.cancel()
        self.timer = nil
    }
}
