import Foundation
import NIOCore
import NIOHTTP1
import SquallFaults

/// `block_upgrade`: acts on HTTP requests that ask to upgrade to WebSocket, the way corporate proxies and
/// middleboxes do; every other request passes untouched.
final class BlockUpgradeStage: FaultStage {
    override func process(_ item: StreamItem) {
        guard case .data(let body, let receivedAt, .request(var head)) = item, head.isWebSocketUpgrade,
            case .blockUpgrade(let mode, let status, let interval) = self.fault.effect
        else {
            return self.emit(item)
        }
        let connection = self.chain.connection
        switch mode {
        case .reject:
            self.chain.discard(item)
            connection.answerClient(
                ProxyAnswer(status: status, message: "WebSocket upgrade blocked by proxy", keepAlive: false),
                thenClose: true
            )
        case .strip:
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
            // The same request without the upgrade: the server socket's encoder writes the changed head.
            self.emit(.data(body, receivedAt: receivedAt, unit: .request(head)))
            // No upgrade will happen: what the client sent after the request is HTTP again.
            connection.upgradeWillNotHappen()
        case .reset:
            self.chain.discard(item)
            connection.close(mode: .reset, reason: "block_upgrade reset")
        case .hang:
            self.chain.discard(item)
            connection.silence(by: self.fault.name)
        case .blackholeAfter101:
            connection.afterUpgrade = .blackhole
            connection.afterUpgradeFault = self.fault.name
            self.emit(item)
        case .bufferAfter101:
            connection.afterUpgrade = .buffer(interval: interval)
            self.emit(item)
        }
    }
}
