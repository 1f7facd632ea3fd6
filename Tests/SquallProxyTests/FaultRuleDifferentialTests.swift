import Foundation
import SquallBenchmarks
import SquallFaults
import SquallProxy
import SquallTestSupport
import Testing

@testable import SquallSimulation

/// One meaning per fault: the same trace of writes through a fault's rule as the proxy carries it out on real
/// sockets and as the simulator carries it out in virtual time gives the same outcome — which units arrive whole,
/// when (within the sockets' scheduling noise), and how the connection ends.
@Suite(.serialized) struct FaultRuleDifferentialTests {
    /// One write of a trace: `size` bytes of one letter, `at` ms after the connection opened.
    struct Write: Sendable {
        var at: Int
        var size: Int
    }

    /// What a carrier made of a trace.
    struct Outcome: Equatable, CustomStringConvertible {
        /// Per write, when its last byte arrived (ms since the connection opened); nil when it never arrived whole.
        var arrivals: [Double?]
        /// How the connection ended within the trace's span: `fin`, `reset`, or nil (still open).
        var ending: String?
        /// When it ended (ms).
        var endedAt: Double?

        var description: String {
            let times = self.arrivals.map { $0.map { String(format: "%.0f", $0) } ?? "-" }.joined(separator: " ")
            return "[\(times)] \(self.ending ?? "open")\(self.endedAt.map { String(format: " at %.0f", $0) } ?? "")"
        }
    }

    /// The simulator's outcome: the fault's rule in a ``SimulatedRuleChain`` on a virtual clock.
    private final class SimulatedHost: RuleChainHost {
        let scheduler = SimulationScheduler()
        private(set) var isOpen = true
        let seed: UInt64
        var ending: (String, Double)?

        init(seed: UInt64) { self.seed = seed }

        func random(for fault: String, _ direction: FaultDirection) -> SeededRandom {
            // As the proxy draws it: proxy "test", its first connection (id 1), the direction, the fault.
            SeedTree(seed: self.seed).stream(proxy: "test", connection: "1", direction: direction, fault: fault)
        }

        func close(by decision: StreamDecision.Close) {
            guard self.isOpen else { return }
            self.isOpen = false
            self.ending = (decision == .reset ? "reset" : "fin", self.scheduler.now)
        }

        func endWebSocket(code: Int) {}
    }

    private static func simulate(_ fault: Fault, _ trace: [Write], seed: UInt64, span: Double) -> Outcome {
        let host = SimulatedHost(seed: seed)
        let chain = SimulatedRuleChain(direction: .upstream, connection: host)
        chain.apply([fault])
        var arrivals = [Double?](repeating: nil, count: trace.count)
        for (index, write) in trace.enumerated() {
            host.scheduler.schedule(at: Double(write.at)) {
                guard host.isOpen else { return }
                chain.send(
                    SimulatedRuleChain.Message(size: write.size, traffic: .response) { time in
                        if host.isOpen { arrivals[index] = time }
                    }
                )
            }
        }
        host.scheduler.run(until: span)
        return Outcome(arrivals: arrivals, ending: host.ending?.0, endedAt: host.ending?.1)
    }

    /// The simulator's outcome for a connection fault (`refuse`, `connect_blackhole`, `slow_open`, `limit_time`,
    /// `idle_timeout`): the fault in a simulated proxy, the trace sent over a simulated connection and echoed back.
    private static func simulateConnection(_ fault: Fault, _ trace: [Write], seed: UInt64, span: Double) -> Outcome {
        let scheduler = SimulationScheduler()
        let proxy = SimulatedProxy(name: "test", scheduler: scheduler, seeds: SeedTree(seed: seed), profile: nil)
        proxy.add(fault)
        var arrivals = [Double?](repeating: nil, count: trace.count)
        var ending: (String, Double)?
        let (connection, establishment) = proxy.connect(client: "c")
        connection.clientLost = { ending = ending ?? ($0 == .reset ? "reset" : "fin", scheduler.now) }
        let opensAt: Double?
        switch establishment {
        case .refused, .reset:
            ending = ("reset", 0)
            opensAt = nil
        case .hang:
            opensAt = nil
        case .open(let delay):
            opensAt = delay
        }
        if let opensAt {
            for (index, write) in trace.enumerated() {
                scheduler.schedule(at: max(Double(write.at), opensAt)) {
                    connection.send(.upstream, size: write.size, .response) {
                        connection.send(.downstream, size: write.size, .response) { arrivals[index] = scheduler.now }
                    }
                }
            }
        }
        scheduler.run(until: span)
        return Outcome(arrivals: arrivals, ending: ending?.0, endedAt: ending?.1)
    }

    /// The proxy's outcome: the trace written through a real proxy (the fault upstream) to an echo server, read back.
    private static func proxy(_ fault: Fault, _ trace: [Write], seed: UInt64, span: Double) async throws -> Outcome {
        try await withProxy(faults: [fault], seed: seed) { proxy, _ in
            try await blocking {
                let socket = try BlockingSocket(port: proxy.port)
                let start = DispatchTime.now().uptimeNanoseconds
                @Sendable func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
                let writer = Thread {
                    for (index, write) in trace.enumerated() {
                        let wait = Double(write.at) - elapsed()
                        if wait > 0 { Thread.sleep(forTimeInterval: wait / 1_000) }
                        try? socket.send([UInt8](repeating: UInt8(65 + index), count: write.size))
                    }
                }
                writer.start()
                var received: [(byte: UInt8, at: Double)] = []
                var ending: (String, Double)?
                reading: while elapsed() < span {
                    switch socket.read(timeout: 0.02) {
                    case .data(let bytes):
                        let now = elapsed()
                        received += bytes.map { ($0, now) }
                    case .endOfFile:
                        ending = ("fin", elapsed())
                        break reading
                    case .reset:
                        ending = ("reset", elapsed())
                        break reading
                    case .timedOut:
                        continue
                    }
                }
                var arrivals = [Double?](repeating: nil, count: trace.count)
                for (index, write) in trace.enumerated() {
                    let bytes = received.filter { $0.byte == UInt8(65 + index) }
                    if bytes.count == write.size { arrivals[index] = bytes.last?.at }
                }
                return Outcome(arrivals: arrivals, ending: ending?.0, endedAt: ending?.1)
            }
        }
    }

    /// How two outcomes differ: writes that arrived whole in one and not the other, arrival or ending times more than
    /// `tolerance` ms (plus 5 %) apart, another ending. Empty when they agree.
    private static func differences(_ simulated: Outcome, _ real: Outcome, tolerance: Double) -> [String] {
        var problems: [String] = []
        if simulated.arrivals.map({ $0 != nil }) != real.arrivals.map({ $0 != nil }) {
            problems.append("other writes arrived whole")
        }
        for (index, (sim, measured)) in zip(simulated.arrivals, real.arrivals).enumerated() {
            guard let sim, let measured, abs(sim - measured) > tolerance + sim * 0.05 else { continue }
            problems.append("write \(index) arrived at \(measured), not \(sim)")
        }
        if simulated.ending != real.ending { problems.append("another ending") }
        if let sim = simulated.endedAt, let measured = real.endedAt, abs(sim - measured) > tolerance + sim * 0.05 {
            problems.append("ended at \(measured), not \(sim)")
        }
        return problems
    }

    /// Runs both and compares: the same writes arrive whole, each within `tolerance` ms (plus 5 %) of the other,
    /// and the connection ends the same way at about the same time.
    private func check(
        _ fault: Fault,
        _ trace: [Write],
        seed: UInt64 = 7,
        span: Double = 1_500,
        tolerance: Double = 30
    )
        async throws
    {
        let simulated = Self.simulate(fault, trace, seed: seed, span: span)
        let real = try await Self.proxy(fault, trace, seed: seed, span: span)
        let problems = Self.differences(simulated, real, tolerance: tolerance)
        #expect(problems.isEmpty, "\(fault.type.rawValue): sim \(simulated), real \(real): \(problems)")
    }

    /// Runs a connection fault both ways and compares, as ``check(_:_:seed:span:tolerance:)``.
    private func checkConnection(_ fault: Fault, _ trace: [Write], span: Double = 1_500) async throws {
        let simulated = Self.simulateConnection(fault, trace, seed: 7, span: span)
        let real = try await Self.proxy(fault, trace, seed: 7, span: span)
        let problems = Self.differences(simulated, real, tolerance: 30)
        #expect(problems.isEmpty, "\(fault.type.rawValue): sim \(simulated), real \(real): \(problems)")
    }

    @Test func limitTime() async throws {
        try await self.checkConnection(
            try Fault(name: "life", type: .limitTime, attributes: ["lifetime": 450]),
            (0..<8).map { Write(at: $0 * 100, size: 50) }
        )
    }

    @Test func idleTimeout() async throws {
        let trace = [Write(at: 0, size: 50), Write(at: 150, size: 50), Write(at: 300, size: 50)]
        try await self.checkConnection(try Fault(name: "idle", type: .idleTimeout, attributes: ["timeout": 250]), trace)
        try await self.checkConnection(
            try Fault(name: "idle", type: .idleTimeout, attributes: ["timeout": 250], text: ["close": "reset"]),
            trace
        )
    }

    @Test func connectFaults() async throws {
        let trace = [Write(at: 0, size: 50), Write(at: 300, size: 50)]
        try await self.checkConnection(try Fault(name: "slow", type: .slowOpen, attributes: ["delay": 200]), trace)
        try await self.checkConnection(try Fault(name: "no", type: .refuse), trace)
        try await self.checkConnection(try Fault(name: "hole", type: .connectBlackhole), trace, span: 800)
    }

    @Test func aCarrierThatMisreadsTheRuleIsCaught() async throws {
        // The comparison fails when the two sides do not carry out the same fault: 100 ms against 160 ms of
        // latency, a reset against an orderly close, other packet-loss draws.
        func fault(_ type: FaultType, _ attributes: [String: Double]) throws -> Fault {
            try Fault(name: "f", type: type, direction: .upstream, attributes: attributes)
        }
        let slower = Self.simulate(try fault(.latency, ["latency": 160]), Self.spaced, seed: 7, span: 1_500)
        let real = try await Self.proxy(try fault(.latency, ["latency": 100]), Self.spaced, seed: 7, span: 1_500)
        #expect(!Self.differences(slower, real, tolerance: 30).isEmpty, "sim \(slower), real \(real)")
        let reset = Self.simulate(try fault(.resetPeer, ["timeout": 200]), Self.spaced, seed: 7, span: 1_500)
        let closed = try await Self.proxy(try fault(.timeout, ["timeout": 100]), Self.spaced, seed: 7, span: 1_500)
        #expect(!Self.differences(reset, closed, tolerance: 30).isEmpty, "sim \(reset), real \(closed)")
        let trace = (0..<12).map { Write(at: $0 * 50, size: 50) }
        let lossy = try fault(.packetLoss, ["loss_rate": 0.4])
        let otherDraws = Self.simulate(lossy, trace, seed: 8, span: 1_500)
        let drawn = try await Self.proxy(lossy, trace, seed: 7, span: 1_500)
        #expect(!Self.differences(otherDraws, drawn, tolerance: 30).isEmpty, "sim \(otherDraws), real \(drawn)")
    }

    private static let spaced = (0..<5).map { Write(at: $0 * 60, size: 100) }

    @Test func latencyWithJitter() async throws {
        try await self.check(
            try Fault(name: "slow", type: .latency, direction: .upstream, attributes: ["latency": 100, "jitter": 40]),
            Self.spaced
        )
    }

    @Test func bandwidth() async throws {
        // 2 KB/s: each 400-byte write takes about 200 ms, so they queue behind each other.
        try await self.check(
            try Fault(name: "narrow", type: .bandwidth, direction: .upstream, attributes: ["rate": 2]),
            (0..<4).map { Write(at: $0 * 50, size: 400) }
        )
    }

    @Test func slicer() async throws {
        // 100-byte pieces 30 ms apart: a 400-byte write takes four pieces, the next waits for the last pause.
        try await self.check(
            try Fault(
                name: "sliced",
                type: .slicer,
                direction: .upstream,
                attributes: ["average_size": 100, "size_variation": 20, "delay": 30_000]
            ),
            (0..<3).map { Write(at: $0 * 40, size: 400) }
        )
    }

    @Test func limitData() async throws {
        try await self.check(
            try Fault(name: "capped", type: .limitData, direction: .upstream, attributes: ["bytes": 250]),
            Self.spaced
        )
    }

    @Test func timeout() async throws {
        // Every write is dropped; 300 ms after the last one the connection closes.
        try await self.check(
            try Fault(name: "idle", type: .timeout, direction: .upstream, attributes: ["timeout": 300]),
            Self.spaced
        )
    }

    @Test func blackhole() async throws {
        try await self.check(try Fault(name: "void", type: .blackhole, direction: .upstream), Self.spaced, span: 800)
    }

    @Test func resetPeer() async throws {
        // From the first write on, nothing passes; 200 ms after it the connection is reset.
        try await self.check(
            try Fault(name: "rst", type: .resetPeer, direction: .upstream, attributes: ["timeout": 200]),
            Self.spaced
        )
    }

    @Test func packetLoss() async throws {
        try await self.check(
            try Fault(
                name: "lossy",
                type: .packetLoss,
                direction: .upstream,
                attributes: ["loss_rate": 0.4, "correlation": 0.2]
            ),
            (0..<12).map { Write(at: $0 * 50, size: 50) }
        )
    }

    @Test func tcpLoss() async throws {
        // Segments of 100 bytes lost at 30 %: each loss stalls the stream for 200 ms (doubling when lost again).
        try await self.check(
            try Fault(
                name: "tcp",
                type: .tcpLoss,
                direction: .upstream,
                attributes: ["loss_rate": 0.3, "segment_size": 100]
            ),
            (0..<6).map { Write(at: $0 * 50, size: 200) },
            span: 4_000
        )
    }
}
