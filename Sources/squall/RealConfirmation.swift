import Foundation
import SquallExplore
import SquallScenarios
import SquallSession

/// A shrunk scenario run once on real sockets (as `squall run`), and the verdict there of the gate it failed in
/// virtual time: what `squall shrink --confirm` and `squall bench explore --confirm` record.
enum RealConfirmation {
    /// Runs `minimal` with its report under `folder/real-run` and finds `gate` (the gate as the shrunk scenario
    /// names it) in the real run.
    ///
    /// - Returns: the gate's result, or why the real run gave none.
    static func run(
        _ minimal: ScenarioDraft,
        gate: Gate,
        folder: String,
        command: String
    ) async -> Result<
        GateResult, Problem
    > {
        let session = ScenarioSession(
            output: (folder as NSString).appendingPathComponent("real-run"),
            quiet: true,
            command: command,
            signals: ShutdownSignal()
        )
        do {
            switch try await session.run(try Scenario(json: minimal.json)) {
            case .ran(let record, _):
                let result = record.gates.first { $0.gate.key == gate.key && $0.gate.expression == gate.expression }
                return result.map { .success($0) } ?? .failure(Problem("the real run has no result for the gate"))
            case .refused(_, let reason):
                return .failure(Problem("the real run was refused: \(reason)"))
            }
        } catch let error as SessionFailure {
            return .failure(Problem(error.message))
        } catch {
            return .failure(Problem("\(error)"))
        }
    }

    /// Why a real run gave no verdict on the gate.
    struct Problem: Error {
        /// The reason, in one sentence.
        let message: String

        init(_ message: String) {
            self.message = message
        }
    }
}
