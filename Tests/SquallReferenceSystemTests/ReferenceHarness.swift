import Foundation
import NIOCore
import SquallFaults
import SquallProxy
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallTestSupport
import Synchronization

/// Collects events from many tasks, in arrival order: the in-memory recorder the tests assert on.
final class Recorder<Element: Sendable>: Sendable {
    private let elements = Mutex<[Element]>([])

    func record(_ element: Element) {
        self.elements.withLock { $0.append(element) }
    }

    var all: [Element] {
        self.elements.withLock { $0 }
    }
}

/// Fast keep-alive timings for tests: pings every 100 ms, a silent client closed after 400 ms.
let fastServer = ReferenceServerConfiguration(
    pingInterval: .milliseconds(100),
    pongTimeout: .milliseconds(400),
    readyTimeout: .seconds(2)
)

/// Runs a reference server for the body, recording its events.
func withReferenceServer<Result>(
    _ configuration: ReferenceServerConfiguration = fastServer,
    _ body: (ReferenceServer, Recorder<ReferenceServerEvent>) async throws -> Result
) async throws -> Result {
    let events = Recorder<ReferenceServerEvent>()
    let server = try await ReferenceServer.bind(configuration: configuration) { events.record($0) }
    let runner = Task { await server.run() }
    do {
        let result = try await body(server, events)
        await server.close()
        await runner.value
        return result
    } catch {
        await server.close()
        await runner.value
        throw error
    }
}

extension Fault {
    /// A corporate firewall's `block_upgrade`: every WebSocket upgrade rejected with 403.
    static func upgradeRejection() throws -> Fault {
        try Fault(
            name: "firewall",
            type: .blockUpgrade,
            direction: .upstream,
            attributes: ["status": 403],
            text: ["mode": "reject"]
        )
    }
}

/// Runs a proxy in front of the server for the body.
func withProxy<Result>(
    to server: ReferenceServer,
    faults: [Fault] = [],
    _ body: (ProxyServer) async throws -> Result
) async throws -> Result {
    let proxy = ProxyServer(
        configuration: ProxyConfiguration(
            name: "reference",
            upstream: HostAndPort(host: "127.0.0.1", port: server.localAddress.port!),
            faults: faults
        ),
        seed: 1
    )
    try await proxy.start()
    do {
        let result = try await body(proxy)
        await proxy.stop()
        return result
    } catch {
        await proxy.stop()
        throw error
    }
}

extension ProxyServer {
    /// The proxy's address as a client's server address.
    var address: ServerAddress {
        ServerAddress(host: "127.0.0.1", port: self.listenAddress!.port!)
    }
}

extension ReferenceServer {
    /// The server's address for a client.
    var address: ServerAddress {
        ServerAddress(host: "127.0.0.1", port: self.localAddress.port!)
    }
}

extension ClientStrategy {
    /// The preset at 1/50 of its real timings (resilient: backoff from 20 ms, heartbeat 600 ms, probe 600 ms,
    /// poll 40 ms), with timeouts long enough for a busy 2-core machine.
    func fast(_ scale: Double = 0.02) -> ClientStrategy {
        var strategy = self
        strategy.timeScale = scale
        strategy.connectTimeout = .seconds(1) / scale
        strategy.requestTimeout = .seconds(1) / scale
        return strategy
    }
}

/// Runs one client to the end of its job (or `limit`), returning its events.
func follow(
    _ job: JobCreation.Created,
    at address: ServerAddress,
    strategy: ClientStrategy,
    limit: Duration = .seconds(20),
    during: (@Sendable () async throws -> Void)? = nil
) async throws -> ClientRun {
    let events = Recorder<ClientEvent>()
    let client = HybridClient(
        configuration: HybridClient.Configuration(
            server: address,
            jobId: job.jobId,
            token: job.token,
            clientId: "c1",
            strategy: strategy,
            seed: 7
        )
    )
    let outcome = await withTaskGroup(of: HybridClientStateMachine.Outcome??.self) { group in
        group.addTask { .some(await client.run { events.record($0) }) }
        group.addTask {
            try? await Task.sleep(for: limit)
            return .none
        }
        if let during {
            group.addTask {
                try? await during()
                try? await Task.sleep(for: .seconds(3_600))
                return .none
            }
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first ?? nil
    }
    return ClientRun(outcome: outcome, events: events.all)
}

/// What one client did.
struct ClientRun {
    var outcome: HybridClientStateMachine.Outcome?
    var events: [ClientEvent]

    /// The `seq` of each delivery, in order.
    var deliveredSeqs: [Int] {
        self.events.compactMap { if case .delivered(let seq, _, _, _) = $0.kind { seq } else { nil } }
    }

    /// How each delivery came.
    var deliveredVia: [HybridClientStateMachine.Transport] {
        self.events.compactMap { if case .delivered(_, let via, _, _) = $0.kind { via } else { nil } }
    }

    /// The events' names, in order.
    var names: [String] {
        self.events.map(\.name)
    }

    /// The reasons of `connect_failed`, `closed` and `fallback` events.
    var reasons: [String] {
        self.events.compactMap { event -> String? in
            switch event.kind {
            case .connectFailed(let reason), .fallback(let reason), .closed(_, let reason): reason
            default: nil
            }
        }
    }
}

/// The server's API over a plain HTTP client.
typealias APIClient = HTTPTestClient

extension HTTPTestClient.Answer {
    /// The body as the server's JSON error.
    var error: ErrorBody? {
        try? ProtocolJSON.decode(ErrorBody.self, from: self.body.utf8)
    }
}
