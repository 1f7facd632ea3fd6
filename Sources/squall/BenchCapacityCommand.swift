import ArgumentParser
import Foundation
import SquallBenchmarks
import SquallFaults
import SquallScenarios

/// `squall bench capacity`: how many reference clients this machine drives with the harness within its bound.
struct BenchCapacityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Find how many reference clients this machine drives honestly through a handoff.",
        discussion: """
            Runs a thundering-herd scenario (resilient clients ramping up over 5 s, every socket reset at 10 s, a \
            2 s blackout) with --start clients, doubling while the harness stays within its lag bound (a tenth of \
            the shortest client timing after timeScale, 10 to 100 ms), then narrowing between the last healthy and \
            the first overloaded size. Prints each trial and the largest healthy size. Build with -c release.
            """
    )

    @Option(name: .long, help: "The scenario's timeScale (the bound follows it).")
    var timeScale: Double = 1

    @Option(name: .long, help: "Clients in the first trial.")
    var start: Int = 250

    @Option(name: .long, help: "The largest trial (at most 5000).")
    var maximum: Int = 5_000

    @Option(name: .long, help: "Bisection steps after the first overloaded trial.")
    var refinements: Int = 3

    func validate() throws {
        guard (0.001...100).contains(self.timeScale) else {
            throw ValidationError("--time-scale must be from 0.001 to 100")
        }
        guard (1...5_000).contains(self.start), (self.start...5_000).contains(self.maximum) else {
            throw ValidationError("--start must be from 1 to 5000 and --maximum from --start to 5000")
        }
        guard (0...10).contains(self.refinements) else { throw ValidationError("--refinements must be from 0 to 10") }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        #if DEBUG
        print(
            "note: this is a debug build; `swift run -c release squall bench capacity` measures what CI runs should use"
        )
        #endif
        let benchmark = CapacityBenchmark(
            timeScale: self.timeScale,
            start: self.start,
            maximum: self.maximum,
            refinements: self.refinements
        )
        let bound = HarnessBound(try benchmark.scenario(clients: self.start))
        print(
            "harness bound at timeScale \(JSONValue.format(self.timeScale)): \(JSONValue.format(bound.milliseconds)) ms (\(bound.reason))"
        )
        print("clients  harness     lag p99   lag max   CPU cores  gates     wall")
        let (_, capacity) = try await benchmark.run { trial in
            guard let record = trial.record else {
                print("\(Self.pad(trial.clients, 7))  not run: \(trial.failure ?? "")")
                return
            }
            let health = record.harness
            let columns = [
                Self.pad(trial.clients, 7),
                (health.overloaded ? "OVERLOADED" : "healthy").padding(toLength: 10, withPad: " ", startingAt: 0),
                Self.pad(health.lagP99.map { HarnessHealth.format($0) + " ms" } ?? "-", 8),
                Self.pad(health.lagMax.map { HarnessHealth.format($0) + " ms" } ?? "-", 8),
                Self.pad(health.cpuMax.map { HarnessHealth.format($0) } ?? "-", 9),
                "\(record.gates.filter(\.passed).count)/\(record.gates.count)".padding(
                    toLength: 8,
                    withPad: " ",
                    startingAt: 0
                ),
                HarnessHealth.format(trial.seconds) + " s",
            ]
            print(columns.joined(separator: "  "))
        }
        if capacity > 0 {
            print(
                "this machine drives \(capacity) reference clients honestly at timeScale \(JSONValue.format(self.timeScale)) (harness lag within \(JSONValue.format(bound.milliseconds)) ms through the handoff)"
            )
        } else {
            print(
                "even \(self.start) clients overloaded the harness at timeScale \(JSONValue.format(self.timeScale)): try a release build or a larger --time-scale"
            )
        }
    }

    private static func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        let text = value.description
        return text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
