import NIOCore
import SquallFaults

/// `limit_data`: forwards exactly `bytes` bytes in its direction, cutting the chunk that crosses the limit, then
/// closes the connection (FIN both ways). The counter survives attribute updates.
final class LimitDataStage: FaultStage {
    private var forwarded = 0
    private var exhausted = false

    override func process(_ item: StreamItem) {
        guard case .limitData(let limit) = self.fault.effect else { return self.emit(item) }
        guard !self.exhausted else {
            self.chain.discard(item)
            return
        }
        guard case .data(var buffer, let receivedAt, _) = item else { return self.emit(item) }
        let allowed = limit - self.forwarded
        if buffer.readableBytes < allowed {
            self.forwarded += buffer.readableBytes
            return self.emit(item)
        }
        self.exhausted = true
        if allowed > 0 {
            let piece = buffer.readSlice(length: allowed)!
            self.forwarded += allowed
            self.emit(.data(piece, receivedAt: receivedAt))
        }
        self.chain.discard(.data(buffer, receivedAt: receivedAt))
        self.chain.connection.close(mode: .fin, reason: "limit_data \(self.fault.name)")
    }
}
