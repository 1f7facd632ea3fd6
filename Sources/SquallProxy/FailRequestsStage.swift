import NIOCore
import NIOHTTP1
import SquallFaults

/// `fail_requests`: answers matching HTTP requests itself with an error status instead of forwarding them — every
/// Nth matching request through the proxy, or each with a seeded probability. The connection stays open, so
/// keep-alive polling goes on.
final class FailRequestsStage: FaultStage {
    private var random: SeededRandom

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.random = context.random
        super.init(fault: fault, isActive: isActive, context: context)
    }

    override func process(_ item: StreamItem) {
        guard case .data(_, _, .request(let head)) = item,
            case .failRequests(let status, let every, let rate, let match) = self.fault.effect,
            match.matches(method: head.method.rawValue, uri: head.uri)
        else {
            return self.emit(item)
        }
        let fails: Bool
        if rate > 0 {
            fails = Double.random(in: 0..<1, using: &self.random) < rate
        } else {
            let count = self.chain.connection.countMatchingRequest(fault: self.fault.name)
            fails = count % every == 0
        }
        guard fails else { return self.emit(item) }
        self.chain.discard(item)
        let connection = self.chain.connection
        if head.isUpgradeRequest {
            // The upgrade request never reaches the server: the client's stream stays HTTP (NIO's decoder stopped
            // after it, whatever protocol it asked for).
            connection.upgradeWillNotHappen()
        }
        connection.answerClient(
            ProxyAnswer(status: status, message: "request failed by squall fail_requests", keepAlive: true),
            thenClose: false
        )
    }
}
