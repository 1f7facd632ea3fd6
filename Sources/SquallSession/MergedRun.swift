import Foundation
import SquallReports
import SquallScenarios

/// Shard logs merged into one run: the merged log read as a record, and its report folder written.
package enum MergedRun {
    /// Merges shard logs into one run and writes its report folder under `output`.
    ///
    /// - Parameter mismatched: the exit code when the logs do not make one run (the user's input for `squall merge`,
    ///   an internal error for shards a run started itself).
    /// - Returns: the merged record and its folder.
    /// - Throws: ``SessionFailure``: `mismatched` when the logs do not make one run, internal error when the report
    ///   cannot be written.
    package static func write(
        _ logs: [[String]],
        output: String,
        mismatched: SquallExit = .shardsMismatched
    ) throws(SessionFailure) -> (record: RunRecord, folder: String) {
        let merged: [String]
        do {
            merged = try ShardMerge.merge(logs)
        } catch {
            throw SessionFailure(mismatched, "\(error)")
        }
        do {
            let record = try RunRecord(lines: merged)
            let folder = try ReportWriter.createFolder(scenario: record.scenario.name, under: output)
            try ReportWriter.write(record, to: folder)
            return (record, folder)
        } catch {
            throw SessionFailure(.internalError, "\(error)")
        }
    }
}
