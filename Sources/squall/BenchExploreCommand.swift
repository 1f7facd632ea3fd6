import ArgumentParser
import Foundation
import SquallExplore
import SquallFaults
import SquallReferenceClient
import SquallScenarios
import SquallSession

/// `squall bench explore`: the mutation benchmark — does `squall explore` find each mutant's bug within its share
/// of the budget, how small is the capsule, does it fail on real sockets too; and does the unmutated client pass.
struct BenchExploreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Mutation benchmark of squall explore: every mutant hunted within an equal share of the budget.",
        discussion: """
            Runs squall explore against each mutant (squall explore --list-mutants) and against resilient itself, \
            each for an equal share of --budget, with the same seed. For each: whether a failure was found, after \
            how long, the first finding's gate and its shrunk capsule's size (steps, clients); with --confirm, the \
            first capsule of each found mutant also runs once on real sockets (squall run, at the capsule's \
            timeScale) and the table says whether the same gate fails there. Writes bench-explore.json and the \
            capsules under --output. Exit codes: 0 the benchmark ran (its figures are the result; a failure found \
            in the unmutated client is printed as a false alarm), 64 usage.
            """
    )

    @Option(name: .long, help: "The whole benchmark's search time (a duration such as 10m), shared equally.")
    var budget = SearchBudget(argument: "10m")!

    @Option(name: .long, help: "The seed of every search.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Where the capsules and bench-explore.json go.")
    var output: String = "bench-explore"

    @Option(name: .long, help: "Only these mutants (comma-separated names, with or without mutant-).")
    var mutants: String?

    @Flag(name: .long, help: "Run each found mutant's first capsule once on real sockets.")
    var confirm = false

    func validate() throws {
        for name in self.selectedNames where ClientStrategy.preset(named: name) == nil {
            throw ValidationError("--mutants: unknown \"\(name)\" (squall explore --list-mutants).")
        }
    }

    private var selectedNames: [String] {
        guard let mutants else { return ClientStrategy.mutants.map(\.name) }
        return mutants.split(separator: ",").map {
            let name = $0.trimmingCharacters(in: .whitespaces)
            return name.hasPrefix("mutant-") ? name : "mutant-" + name
        }
    }

    /// One row of the table.
    private struct Row {
        var strategy: String
        var summary: String
        var schedules = 0
        var found: Explorer.Finding?
        var capsule: String?
        var real: String?
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let strategies = self.selectedNames + ["resilient"]
        let total = self.budget.duration
        // Whole milliseconds, so the share reads as a duration.
        let (seconds, attoseconds) = (total / strategies.count).components
        let share = Duration.milliseconds(seconds * 1_000 + attoseconds / 1_000_000_000_000_000)
        print("▶ bench explore: \(strategies.count) strategies, \(share.squallText) each, seed \(self.seed)")
        var rows: [Row] = []
        for name in strategies {
            let strategy = ClientStrategy.preset(named: name)!
            var row = Row(strategy: name, summary: strategy.summary)
            let explorer = Explorer(strategy: name, clients: 5, seed: self.seed)
            explorer.explore(until: .now + share, shrinkBudget: .seconds(20)) { finding in
                guard row.found == nil else { return }
                row.found = finding
            }
            row.schedules = explorer.schedules
            if let finding = row.found {
                let folder = (self.output as NSString).appendingPathComponent(name)
                do {
                    try ExploreCommand.write(finding, to: folder)
                    row.capsule = folder
                } catch {
                    printError("squall bench explore: cannot write \(folder): \(error)")
                    throw ExitStatus.internalError
                }
                if self.confirm {
                    let command = "squall bench explore"
                    switch await RealConfirmation.run(
                        finding.minimal,
                        gate: finding.failure.gate,
                        folder: folder,
                        command: command
                    ) {
                    case .success(let result): row.real = result.verdict.rawValue
                    case .failure(let problem): row.real = problem.message
                    }
                }
            }
            print(Self.line(row))
            rows.append(row)
        }
        let mutants = rows.filter { $0.strategy != "resilient" }
        let found = mutants.filter { $0.found != nil }
        let small = found.filter { Self.isSmall($0.found!.minimal) }
        let confirmed = found.filter { $0.real == "failed" }
        print(
            "\(found.count) of \(mutants.count) mutants found within \(share.squallText) each (\(total.squallText) in all); "
                + "\(small.count) capsules within 3 steps and 10 clients"
                + (self.confirm ? "; \(confirmed.count) of \(found.count) fail the same gate on real sockets" : "")
        )
        if let unmutated = rows.last, unmutated.found != nil {
            print("✘ false alarm: the unmutated resilient client failed \(unmutated.found!.gate)")
        } else {
            print("✔ the unmutated resilient client: no failure found in \(share.squallText)")
        }
        do {
            try FileManager.default.createDirectory(atPath: self.output, withIntermediateDirectories: true)
            try (Self.document(rows, share: share).prettyText + "\n").write(
                toFile: (self.output as NSString).appendingPathComponent("bench-explore.json"),
                atomically: true,
                encoding: .utf8
            )
        } catch {
            printError("squall bench explore: cannot write \(self.output): \(error)")
            throw ExitStatus.internalError
        }
    }

    private static func isSmall(_ draft: ScenarioDraft) -> Bool {
        guard case .object(let size) = draft.size, case .number(let clients)? = size["clients"] else { return false }
        return draft.steps.count <= 3 && clients <= 10
    }

    private static func line(_ row: Row) -> String {
        guard let finding = row.found else {
            return "  \(row.strategy): not found (\(row.schedules) schedules)"
        }
        let real = row.real.map { "; real sockets: \($0)" } ?? ""
        return "  \(row.strategy): \(finding.gate) after \(String(format: "%.1f", finding.foundAfter)) s "
            + "(\(row.schedules) schedules) → \(finding.minimal.sizeDescription)\(real)"
    }

    private static func document(_ rows: [Row], share: Duration) -> JSONValue {
        .object([
            "budgetPerStrategy": .string(share.squallText),
            "strategies": .array(
                rows.map { row in
                    var members: [String: JSONValue] = [
                        "strategy": .string(row.strategy),
                        "summary": .string(row.summary),
                        "schedules": .number(Double(row.schedules)),
                        "found": .bool(row.found != nil),
                    ]
                    if let finding = row.found {
                        members["gate"] = .string(finding.gate)
                        members["foundAfterSeconds"] = .number((finding.foundAfter * 10).rounded() / 10)
                        members["capsule"] = row.capsule.map(JSONValue.string) ?? .null
                        members["minimal"] = finding.minimal.size
                        members["realSockets"] = row.real.map(JSONValue.string) ?? .null
                    }
                    return .object(members)
                }
            ),
        ])
    }
}
