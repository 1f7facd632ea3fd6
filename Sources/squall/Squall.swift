import ArgumentParser
import SquallScenarios

/// The `squall` command: a network chaos and resilience test harness.
@main
struct Squall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "squall",
        abstract: "Network chaos and resilience testing for WebSocket apps with HTTP polling fallback.",
        version: SquallVersion.current,
        subcommands: [
            RunCommand.self, SimCommand.self, MergeCommand.self, ValidateCommand.self, ReplayCommand.self,
            ReportCommand.self, ShrinkCommand.self, ExploreCommand.self,
            ProxyCommand.self,
            ServeCommand.self, ClientCommand.self, FaultsCommand.self, ProfilesCommand.self, BenchCommand.self,
        ]
    )
}
