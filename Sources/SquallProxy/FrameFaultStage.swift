import NIOCore
import NIOWebSocket
import SquallFaults

/// `drop_pings` and `close_after_frames`: act on whole WebSocket frames after a real upgrade.
///
/// `drop_pings` swallows ping and pong frames, so a heartbeat never gets its answer. `close_after_frames` lets N
/// data frames through in its direction, then sends a close frame with the chosen code both ways (masked toward
/// the server) and closes the connection; code 1006, which is never sent on the wire, cuts TCP instead.
final class FrameFaultStage: FaultStage {
    private var dataFrames = 0
    private var closed = false

    override func process(_ item: StreamItem) {
        guard case .data(_, _, .frame(let opcode)) = item else { return self.emit(item) }
        switch self.fault.effect {
        case .dropPings where opcode == .ping || opcode == .pong:
            self.chain.discard(item)
        case .closeAfterFrames(let limit, let code)
        where opcode == .text || opcode == .binary || opcode == .continuation:
            guard !self.closed else { return self.chain.discard(item) }
            if self.dataFrames < limit {
                self.dataFrames += 1
                self.emit(item)
                if self.dataFrames < limit { return }
            } else {
                self.chain.discard(item)
            }
            self.closed = true
            self.chain.connection.closeWebSocket(code: code, reason: "close_after_frames \(self.fault.name)")
        default:
            self.emit(item)
        }
    }
}
