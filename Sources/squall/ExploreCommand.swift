import ArgumentParser
import Foundation
import SquallExplore
import SquallFaults
import SquallReferenceClient
import SquallScenarios

/// `squall explore`: generated fault schedules against a client strategy in virtual time, steered by coverage;
/// every failure of the resilience contract shrunk to a capsule.
struct ExploreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Search fault schedules in virtual time for one that breaks a client; shrink each failure found.",
        discussion: """
            Draws timelines from the fault catalogue (handoffs, restarts, suspensions and every fault type, at \
            random times with random modes, strengths and durations, each ending), runs each in squall sim against \
            --strategy (a preset or a mutant), and judges it by the resilience contract: no message lost, \
            duplicated or invented; every job completed; nobody left polling after the faults; no reconnect or \
            polling storm; no update later than a minute. The job outlasts the last fault by 45 s and the run by a \
            minute more, so a client that recovers as the resilient preset does always passes. Schedules that take \
            a client through a change of state not seen before join a corpus that later schedules vary (coverage: \
            the state changes and three-state paths reached). Each failing gate is shrunk once (squall shrink) and \
            written as a capsule under --output. The same --seed explores the same schedules in the same order (up \
            to where the budget stops it). Real-mode exploration of an external client is not built yet. Exit codes: \
            0 no failure found, 99 a failure found (capsules written), 64 invalid input.
            """
    )

    @Option(name: .long, help: "The client strategy: a preset or a mutant (squall explore --list-mutants).")
    var strategy: String = "resilient"

    @Option(name: .long, help: "How long to search (a duration such as 60s or 10m).")
    var budget = SearchBudget(argument: "1m")!

    @Option(name: .long, help: "The seed of the search.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Clients in each schedule.")
    var clients: Int = 5

    @Option(name: .long, help: "Stop after this many schedules (with the budget, whichever comes first).")
    var limit: Int?

    @Option(name: .long, help: "Where the capsule folders go.")
    var output: String = "capsules"

    @Flag(name: .long, help: "List the mutants (deliberately broken strategies) and exit.")
    var listMutants = false

    func validate() throws {
        guard (1...1_000).contains(self.clients) else {
            throw ValidationError("--clients: expected 1 to 1000, found \(self.clients).")
        }
        guard self.listMutants || ClientStrategy.preset(named: self.strategy) != nil else {
            throw ValidationError(
                "--strategy: unknown \"\(self.strategy)\"; a preset (\(ClientStrategy.presets.map(\.name).joined(separator: ", "))) or a mutant (--list-mutants)."
            )
        }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        if self.listMutants {
            for mutant in ClientStrategy.mutants { print("\(mutant.name): \(mutant.summary)") }
            return
        }
        let budget = self.budget.duration
        let explorer = Explorer(strategy: self.strategy, clients: self.clients, seed: self.seed)
        print(
            "▶ exploring \(self.strategy) for \(budget.squallText) (seed \(self.seed), \(self.clients) clients a schedule)"
        )
        var written: [String] = []
        var failure: (any Error)?
        explorer.explore(until: .now + budget, limit: self.limit ?? .max) { finding in
            let folder = (self.output as NSString).appendingPathComponent(
                "\(self.strategy)-seed\(self.seed)-\(written.count + 1)"
            )
            do {
                try Self.write(finding, to: folder)
                written.append(folder)
            } catch {
                failure = error
            }
            let observed = finding.failure.observed.map(JSONValue.format) ?? "no samples"
            print(
                "  ✘ \(finding.gate) (observed \(observed)) after \(String(format: "%.1f", finding.foundAfter)) s → "
                    + "\(finding.minimal.sizeDescription): \(folder)"
            )
        }
        if let failure {
            printError("squall explore: \(failure)")
            throw ExitStatus.internalError
        }
        print(
            "  \(explorer.schedules) schedules, \(explorer.failingSchedules) failing; coverage: "
                + "\(explorer.coverage.transitions.count) state changes, \(explorer.coverage.paths.count) paths"
        )
        print("    state changes: \(explorer.coverage.transitions.sorted().joined(separator: ", "))")
        if explorer.findings.isEmpty {
            print("✔ \(self.strategy): no schedule broke the contract")
        } else {
            print("✘ \(self.strategy): \(explorer.findings.count) gates broken")
            throw ExitStatus.gateFailed
        }
    }

    /// Writes a finding's capsule: its shrunk scenario and `capsule.json`, and the schedule as found (`found.json`).
    static func write(_ finding: Explorer.Finding, to folder: String) throws {
        let capsule = ShrinkCapsule(
            failure: finding.failure,
            original: ScenarioDraft(finding.scenario)!,
            minimal: finding.minimal,
            statistics: finding.statistics,
            seconds: finding.shrinkSeconds,
            sourceCommit: SourceCommit.current
        )
        try capsule.write(to: folder)
        try (finding.scenario.prettyText + "\n").write(
            toFile: folder + "/found.json",
            atomically: true,
            encoding: .utf8
        )
    }
}
