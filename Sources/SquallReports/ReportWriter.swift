import Foundation
import SquallFaults
import SquallScenarios
import Synchronization

/// Writes a run's report folder: `events.ndjson`, `report.json`, `junit.xml`, `summary.md`, `report.html`.
public enum ReportWriter {
    /// The folder for a run of `scenario` starting at `startedAt`: `<output>/<scenario>/<UTC start time>/`, e.g.
    /// `reports/baseline/2026-11-23T10-54-29Z`.
    public static func folder(scenario: String, startedAt: Date, under output: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH-mm-ss'Z'"
        return (output as NSString).appendingPathComponent("\(scenario)/\(formatter.string(from: startedAt))")
    }

    /// Creates a new, empty run folder for a run starting now, before it starts, so its log streams into it; a
    /// second run of the same scenario within the same second gets `-2`, `-3`, … appended.
    ///
    /// - Throws: ``ScenarioError/reportFailed(path:reason:)``.
    public static func createFolder(scenario: String, under output: String) throws(ScenarioError) -> String {
        let base = Self.folder(scenario: scenario, startedAt: Date(), under: output)
        var candidate = base
        var suffix = 2
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = base + "-\(suffix)"
            suffix += 1
        }
        do {
            try FileManager.default.createDirectory(atPath: candidate, withIntermediateDirectories: true)
        } catch {
            throw .reportFailed(path: candidate, reason: error.localizedDescription)
        }
        return candidate
    }

    /// Writes every report file of a run into `folder` (created if needed).
    ///
    /// - Parameters:
    ///   - record: the run.
    ///   - folder: where.
    ///   - includeEvents: write `events.ndjson` too (false when re-rendering from it).
    /// - Throws: ``ScenarioError/reportFailed(path:reason:)``.
    public static func write(_ record: RunRecord, to folder: String, includeEvents: Bool = true) throws(ScenarioError) {
        // The four documents are rendered side by side: for a simulation of a million events each walks them.
        let renderers: [(String, @Sendable (RunRecord) -> String)] = [
            ("report.json", { Self.reportJSON($0) }),
            ("junit.xml", { JUnitReport.xml([$0]) }),
            ("summary.md", { MarkdownSummary.text($0) }),
            ("report.html", { HTMLReport.page($0) }),
        ]
        let rendered = Mutex([String?](repeating: nil, count: renderers.count))
        DispatchQueue.concurrentPerform(iterations: renderers.count) { index in
            let text = renderers[index].1(record)
            rendered.withLock { $0[index] = text }
        }
        let texts = rendered.withLock { $0 }
        var files: [(String, String)] = zip(renderers, texts).map { ($0.0, $1 ?? "") }
        if includeEvents {
            files.insert(("events.ndjson", record.lines.joined(separator: "\n") + "\n"), at: 0)
        }
        files += record.attachments.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, text) in files {
                let path = (folder as NSString).appendingPathComponent(name)
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true
                )
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            }
        } catch {
            throw .reportFailed(path: folder, reason: "\(error.localizedDescription)")
        }
    }

    /// Writes the combined `junit.xml` of several runs (one suite each), for CI systems that read one file.
    public static func writeCombinedJUnit(
        _ records: [RunRecord],
        refused: [(scenario: String, reason: String)] = [],
        to path: String
    ) throws(ScenarioError) {
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            try Data(JUnitReport.xml(records, refused: refused).utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .reportFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The text of `report.json` for a run; a re-check of its `events.ndjson` reproduces it byte for byte.
    public static func reportJSON(_ record: RunRecord) -> String {
        ReportJSON.document(record).prettyText + "\n"
    }

    /// The `report.json` document of a run, for comparisons.
    public static func reportDocument(_ record: RunRecord) -> JSONValue {
        ReportJSON.document(record)
    }

    /// The JUnit XML of one or more runs (one suite each).
    public static func junit(_ records: [RunRecord], refused: [(scenario: String, reason: String)] = []) -> String {
        JUnitReport.xml(records, refused: refused)
    }

    /// The Markdown summary, for printing.
    public static func summary(_ record: RunRecord) -> String {
        MarkdownSummary.text(record)
    }
}
