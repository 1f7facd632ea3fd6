import ArgumentParser
import SquallScenarios

/// `squall run`: runs scenarios against the reference system through the fault proxy, writes reports, and exits
/// non-zero when a gate fails — Squall's main job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run JSON scenarios, check their gates, write reports (exit 99 when a gate fails).",
        discussion: """
            Every scenario is validated before anything starts (exit 64 naming the JSON path). Each run writes \
            <output>/<scenario>/<UTC time>/ with events.ndjson, report.json, junit.xml, summary.md and report.html, \
            and <output>/junit.xml combines every scenario of the invocation. Exit codes: 0 all gates passed, 99 a \
            gate failed, 64 invalid scenario or usage, 70 internal error, 130 interrupted (SIGINT/SIGTERM: faults \
            are healed, clients stopped, and the partial report is written).
            """
    )

    @Argument(help: "Scenario files or folders (default: scenarios/).")
    var paths: [String] = ["scenarios"]

    @Option(name: .long, help: "Where reports go.")
    var output: String = "reports"

    @Flag(name: .long, help: "Print only each scenario's verdict.")
    var quiet = false

    func run() async throws {
        StandardOutput.useLineBuffering()
        let signals = ShutdownSignal()
        let scenarios: [Scenario]
        do {
            let files = try ScenarioFiles.list(self.paths)
            var loaded: [Scenario] = []
            var failures: [String] = []
            for file in files {
                do {
                    loaded.append(try ScenarioFiles.load(file))
                } catch {
                    failures.append("\(error)")
                }
            }
            guard failures.isEmpty else {
                for failure in failures { printError("squall run: invalid \(failure)") }
                throw ExitStatus.usage
            }
            scenarios = loaded
        } catch let error as ScenarioError {
            printError("squall run: \(error)")
            throw ExitStatus.usage
        }
        let session = ScenarioSession(output: self.output, quiet: self.quiet, command: "squall run", signals: signals)
        var records: [RunRecord] = []
        for scenario in scenarios {
            let (record, _) = try await session.run(scenario)
            records.append(record)
            if record.interrupted { break }
        }
        try session.writeCombinedJUnit(records)
        let exit = ExitStatus.of(records.map(\.verdict))
        if exit != ExitStatus.success { throw exit }
    }
}
