import Foundation
import NIOCore
import NIOHTTP1
import SquallFaults

/// `block_upgrade`, `fail_requests` and `strip_header` carried out on a live connection: each request is given to
/// the fault's ``RequestRule`` (the value the simulator carries out too), and the stage does what it decides —
/// passes the request on (without its upgrade headers for `strip`, without a named header for `strip_header`),
/// answers it itself, resets or silences the connection, or tells the connection what to do once the server's 101
/// is through.
final class RequestRuleStage: FaultStage {
    private var rule: RequestRule

    override init(fault: Fault, isActive: Bool, context: StageContext) {
        self.rule = RequestRule(fault.effect, random: context.random)
        super.init(fault: fault, isActive: isActive, context: context)
    }

    override func configurationChanged(becameActive: Bool) {
        self.rule.configure(self.fault.effect)
    }

    override func process(_ item: StreamItem) {
        guard case .data(let body, let receivedAt, .request(var head)) = item else { return self.emit(item) }
        let connection = self.chain.connection
        let name = self.fault.name
        let decision = self.rule.decide(
            method: head.method.rawValue,
            target: head.uri,
            isUpgrade: head.isWebSocketUpgrade
        ) {
            connection.countMatchingRequest(fault: name)
        }
        switch decision {
        case .forward:
            self.emit(item)
        case .forwardStripped:
            Self.strip(&head)
            // The same request without the upgrade: the server socket's encoder writes the changed head.
            self.emit(.data(body, receivedAt: receivedAt, unit: .request(head)))
            // No upgrade will happen: what the client sent after the request is HTTP again.
            connection.upgradeWillNotHappen()
        case .forwardWithout(let header):
            let wasUpgrade = head.isUpgradeRequest
            head.headers.remove(name: header)
            self.emit(.data(body, receivedAt: receivedAt, unit: .request(head)))
            // Without its `Upgrade` (or `Connection`) the request asks for no upgrade: the stream stays HTTP.
            if wasUpgrade && !head.isUpgradeRequest { connection.upgradeWillNotHappen() }
        case .forwardThenSilence:
            connection.afterUpgrade = .blackhole
            connection.afterUpgradeFault = name
            self.emit(item)
        case .forwardThenBuffer(let interval):
            connection.afterUpgrade = .buffer(interval: interval)
            self.emit(item)
        case .answer(let status, let message, let closes):
            self.chain.discard(item)
            if !closes && head.isUpgradeRequest {
                // The upgrade request never reaches the server: the client's stream stays HTTP (NIO's decoder
                // stopped after it, whatever protocol it asked for).
                connection.upgradeWillNotHappen()
            }
            connection.answerClient(
                ProxyAnswer(status: status, message: message, keepAlive: !closes),
                thenClose: closes
            )
        case .reset:
            self.chain.discard(item)
            connection.close(mode: .reset, reason: "\(self.fault.type.rawValue) \(name)")
        case .hang:
            self.chain.discard(item)
            connection.silence(by: name)
        }
    }

    /// Removes a request's upgrade headers (and `upgrade` from its `Connection` tokens).
    private static func strip(_ head: inout HTTPRequestHead) {
        head.headers.remove(name: "Upgrade")
        head.headers.remove(name: "Sec-WebSocket-Key")
        head.headers.remove(name: "Sec-WebSocket-Version")
        head.headers.remove(name: "Sec-WebSocket-Extensions")
        let tokens = head.headers["Connection"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.lowercased() != "upgrade" }
        head.headers.remove(name: "Connection")
        if !tokens.isEmpty {
            head.headers.add(name: "Connection", value: tokens.joined(separator: ", "))
        }
    }
}
