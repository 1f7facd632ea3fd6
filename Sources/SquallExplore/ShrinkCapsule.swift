import Foundation
import SquallFaults
import SquallScenarios

/// What `squall shrink` leaves: the smallest failing scenario it found (with its seed written in) and
/// `capsule.json`, which says what fails, how much smaller it is, how to replay it, and whether real sockets agree.
package struct ShrinkCapsule: Sendable {
    /// The capsule format's version.
    package static let formatVersion = 1

    /// The gate it fails, as the last failing run of the shrink evaluated it.
    package var failure: GateResult
    /// The scenario before and after (the capsule's `scenario.json` is the after, its seed written in).
    package var original: ScenarioDraft
    package var minimal: ScenarioDraft
    /// How the shrink went, and how long it took (seconds).
    package var statistics: ScenarioShrinker.Statistics
    package var seconds: Double
    /// The commit of Squall's source tree, when known.
    package var sourceCommit: String?
    /// The verdict of the target gate on real sockets (`--confirm`), nil when not run.
    package var realVerdict: GateResult?
    /// Why the real run gave no verdict on the gate, when it was run and could not.
    package var realProblem: String?

    /// Creates a capsule.
    package init(
        failure: GateResult,
        original: ScenarioDraft,
        minimal: ScenarioDraft,
        statistics: ScenarioShrinker.Statistics,
        seconds: Double,
        sourceCommit: String?
    ) {
        self.failure = failure
        self.original = original
        self.minimal = minimal
        self.statistics = statistics
        self.seconds = seconds
        self.sourceCommit = sourceCommit
    }

    /// The longest a capsule's real run should take: its `timeScale` is set so the run lasts at most this long.
    package static let realRunLength = 30_000

    /// `draft` with the `timeScale` its real run (`squall run`, `--confirm`) plays it at: real time (1) when the
    /// run lasts at most ``realRunLength``, else just fast enough to fit it (never below 0.1). A capsule runs one
    /// client or a few: a compressed clock would make a failure that hangs on a message in flight at a cut less
    /// likely on real sockets for no gain. The simulator ignores `timeScale`, so the capsule's sim replay is the same.
    package static func forRealRun(_ draft: ScenarioDraft) -> ScenarioDraft {
        guard let milliseconds = ScenarioDraft.milliseconds(draft[member: "duration"]) else { return draft }
        let scale = min(1, max(0.1, (Double(Self.realRunLength) / milliseconds * 100).rounded(.down) / 100))
        var draft = draft
        draft[member: "timeScale"] = .number(scale)
        return draft
    }

    /// `capsule.json`, for a capsule written to `folder`.
    package func document(folder: String) -> JSONValue {
        let scenarioPath = folder + "/scenario.json"
        var real: JSONValue = .string("not run (squall shrink --confirm runs it once on real sockets)")
        if let verdict = self.realVerdict {
            real = .object([
                "verdict": .string(verdict.verdict.rawValue),
                "observed": verdict.observed.map(JSONValue.number) ?? .null,
                "sameFailure": .bool(verdict.verdict == .failed),
            ])
        } else if let problem = self.realProblem {
            real = .object(["verdict": .null, "problem": .string(problem)])
        }
        return .object([
            "capsuleVersion": .number(Double(Self.formatVersion)),
            "scenario": .string(scenarioPath),
            "seed": self.minimal.seed.map { .number(Double($0)) } ?? .null,
            "squallVersion": .string(SquallVersion.current),
            "sourceCommit": self.sourceCommit.map(JSONValue.string) ?? .null,
            "gate": .object([
                "key": .string(self.failure.gate.key),
                "expression": .string(self.failure.gate.expression),
                "observed": self.failure.observed.map(JSONValue.number) ?? .null,
                "missingEvidence": self.failure.missingEvidence.map(JSONValue.string) ?? .null,
            ]),
            "original": self.original.size,
            "minimal": self.minimal.size,
            "shrink": .object([
                "runs": .number(Double(self.statistics.runs)),
                "invalidCandidates": .number(Double(self.statistics.invalid)),
                "kept": .number(Double(self.statistics.kept)),
                "complete": .bool(self.statistics.complete),
                "seconds": .number((self.seconds * 10).rounded() / 10),
            ]),
            "replay": .object([
                "sim": .string("squall sim \(scenarioPath)"),
                "run": .string("squall run \(scenarioPath)"),
            ]),
            "realSockets": real,
        ])
    }

    /// Writes the capsule to `folder` (created): `scenario.json`, the shrunk scenario, and `capsule.json`.
    package func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (self.minimal.json.prettyText + "\n").write(
            toFile: folder + "/scenario.json",
            atomically: true,
            encoding: .utf8
        )
        try (self.document(folder: folder).prettyText + "\n").write(
            toFile: folder + "/capsule.json",
            atomically: true,
            encoding: .utf8
        )
    }
}
