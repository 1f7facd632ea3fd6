import Foundation
import SquallFaults
import SquallScenarios

/// How many reference clients this machine drives honestly: runs a handoff scenario (the shipped
/// `thundering-herd`'s shape) with more and more clients until the harness crosses its lag bound, then narrows the
/// step down, all in one run.
///
/// "Honestly" means the harness stayed within its ``HarnessBound`` for the whole run — the reconnect storm of the
/// handoff included — so any gate verdict at that size is the app's, not the harness's.
public struct CapacityBenchmark: Sendable {
    /// One trial.
    public struct Trial: Sendable {
        /// Clients in the trial.
        public var clients: Int
        /// The run's record (nil when the run could not start, e.g. beyond the descriptor limit).
        public var record: RunRecord?
        /// Why it could not run.
        public var failure: String?
        /// Wall-clock seconds the trial took.
        public var seconds: Double

        /// Whether the harness kept within its bound.
        public var healthy: Bool {
            self.record.map { !$0.harness.overloaded } ?? false
        }
    }

    /// The scenario's `timeScale`.
    public var timeScale: Double
    /// The first trial's client count.
    public var start: Int
    /// The largest client count tried; at most 5000, the scenario limit of a real run.
    public var maximum: Int
    /// Bisection steps after the first unhealthy trial.
    public var refinements: Int
    /// Processes each trial runs in: 1 runs it here; more splits its clients over that many `squall run --shard`
    /// processes (the caller's ``run(trial:report:)`` closure starts them), each under its own descriptor limit.
    public var shards: Int

    /// Creates a benchmark.
    public init(timeScale: Double = 1, start: Int = 250, maximum: Int = 5_000, refinements: Int = 3, shards: Int = 1) {
        self.timeScale = timeScale
        self.start = start
        self.maximum = maximum
        self.refinements = refinements
        self.shards = shards
    }

    /// The scenario of one trial: `clients` resilient clients ramping up over 5 s, every socket reset by a handoff
    /// at 10 s with a 2 s blackout, jobs of 15 items a second; the thundering-herd gates.
    public func scenario(clients: Int) throws(FaultError) -> Scenario {
        // Sharded, each runner drives a slice: the scenario may hold that many times more clients.
        try Scenario(
            bytes: Array(self.scenarioJSON(clients: clients).utf8),
            clientLimit: Scenario.maximumClients * max(1, self.shards)
        )
    }

    /// The JSON text of ``scenario(clients:)``, for a trial run from a file (as shards are).
    public func scenarioJSON(clients: Int) -> String {
        """
        {"name": "capacity-\(clients)", "seed": 8, "timeScale": \(JSONValue.format(self.timeScale)), "duration": "30s",
         "server": {"job": {"totalItems": 15, "itemInterval": "1s"}},
         "clients": [{"count": \(clients), "rampUp": "5s", "strategy": "resilient"}],
         "timeline": [{"at": "10s", "handoff": {"mode": "reset", "blackout": "2s", "during": "refuse"}}],
         "gates": {"fallback_rate": ["rate<0.05"], "completion_rate": ["rate>0.99"], "duplicate_messages": ["count==0"], "lost_messages": ["count==0"]}}
        """
    }

    /// Runs trials: doubling from ``start`` while the harness stays healthy, then bisecting between the last
    /// healthy and the first unhealthy size ``refinements`` times.
    ///
    /// - Parameters:
    ///   - runTrial: runs one trial's scenario (given also as its JSON text) and returns its record; by default in
    ///     this process. With ``shards`` above 1, it must run the trial as that many shards.
    ///   - report: called after each trial.
    /// - Returns: every trial, in the order run, and the largest healthy client count (0 when none was).
    public func run(
        trial runTrial: (Scenario, String) async throws -> RunRecord = { scenario, _ in
            try await ScenarioRunner(scenario: scenario).run()
        },
        report: (Trial) -> Void
    ) async throws(FaultError) -> (trials: [Trial], capacity: Int) {
        var trials: [Trial] = []
        var healthy = 0
        var unhealthy: Int?
        var size = self.start
        func attempt(_ clients: Int) async throws(FaultError) -> Bool {
            let scenario = try self.scenario(clients: clients)
            let started = ContinuousClock.now
            var trial = Trial(clients: clients, record: nil, failure: nil, seconds: 0)
            do {
                trial.record = try await runTrial(scenario, self.scenarioJSON(clients: clients))
            } catch {
                trial.failure = "\(error)"
            }
            let elapsed = ContinuousClock.now - started
            trial.seconds = elapsed.milliseconds / 1_000
            trials.append(trial)
            report(trial)
            return trial.healthy
        }
        while !Task.isCancelled {
            if try await attempt(size) {
                healthy = size
                guard size < self.maximum else { break }
                size = min(size * 2, self.maximum)
            } else {
                unhealthy = size
                break
            }
        }
        if var upper = unhealthy {
            var lower = healthy
            for _ in 0..<self.refinements where upper - lower > max(50, lower / 20) && !Task.isCancelled {
                let middle = (lower + upper) / 2
                if try await attempt(middle) {
                    lower = middle
                    healthy = max(healthy, middle)
                } else {
                    upper = middle
                }
            }
        }
        return (trials, healthy)
    }
}
