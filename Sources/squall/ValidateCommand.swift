import ArgumentParser
import SquallFaults
import SquallScenarios

/// `squall validate`: checks scenario files without running anything.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check scenario files (JSON paths in every error); exit 64 if any is invalid.",
        discussion:
            "Exit codes: 0 every scenario is valid, 64 one is invalid (each problem with its JSON path) or usage."
    )

    @Argument(help: "Scenario files or folders (default: scenarios/).")
    var paths: [String] = ["scenarios"]

    func run() throws {
        let files: [String]
        do {
            files = try ScenarioFiles.list(self.paths)
        } catch {
            printError("squall validate: \(error)")
            throw ExitStatus.usage
        }
        var invalid = 0
        for file in files {
            do {
                let scenario = try ScenarioFiles.load(file)
                let plan: PlannedTimeline
                do {
                    plan = try PlannedTimeline(scenario)
                } catch {
                    throw ScenarioError.invalid(file: file, error)
                }
                let bound = HarnessBound(scenario)
                print(
                    "ok \(file): \(scenario.name), \(scenario.clientCount) clients, \(plan.steps.count) timeline steps, \(scenario.gates.count) gates, plan \(plan.digest), harness bound \(JSONValue.format(bound.milliseconds)) ms"
                )
                if bound.isAtFloor {
                    print(
                        "  note: \(bound.reason); a larger timeScale lets the harness judge these timings more finely"
                    )
                }
            } catch {
                printError("invalid \(error)")
                invalid += 1
            }
        }
        if invalid > 0 { throw ExitStatus.usage }
    }
}
