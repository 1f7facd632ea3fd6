import Foundation
import SquallFaults
import SquallScenarios

/// Finds and reads a recorded run: its folder (`reports/<scenario>/<time>/`), its `events.ndjson` (or
/// `events.ndjson.gz`) or its `report.json` all name the same run.
package struct RunFiles {
    /// The run's log (`events.ndjson` or `events.ndjson.gz`), when it exists.
    package var events: String?
    /// The run's `report.json`, when it exists.
    package var report: String?

    /// Locates a run from a folder or one of its files.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)`` when the path holds neither file.
    package init(locating path: String) throws(ScenarioError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or folder")
        }
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        func sibling(_ name: String) -> String? {
            let candidate = (folder as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
        }
        if isDirectory.boolValue {
            self.events = EventLogFile.find(in: folder)
            self.report = sibling("report.json")
        } else if path.hasSuffix(".ndjson") || path.hasSuffix(".ndjson.gz") {
            self.events = path
            self.report = sibling("report.json")
        } else {
            self.report = path
            self.events = EventLogFile.find(in: folder)
        }
        guard self.events != nil || self.report != nil else {
            throw .unreadable(
                path: path,
                reason: "the folder holds no events.ndjson, events.ndjson.gz or report.json of a run"
            )
        }
    }

    /// Every run folder under `path` (the folders holding a log), sorted; `path` itself when it is one.
    package static func runFolders(under path: String) throws(ScenarioError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or folder")
        }
        guard isDirectory.boolValue else { return [(path as NSString).deletingLastPathComponent] }
        let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
            .filter(EventLogFile.isLog)
            .map { ((path as NSString).appendingPathComponent($0) as NSString).deletingLastPathComponent }
        let folders = Array(Set(found)).sorted()
        guard !folders.isEmpty else { throw .unreadable(path: path, reason: "no events.ndjson under it") }
        return folders
    }

    /// Reads a stored event log into a record (metrics and gates recomputed); a log cut off by a kill reads as
    /// incomplete.
    ///
    /// - Throws: ``ScenarioError/invalidRecord(path:reason:)`` naming the bad line.
    package static func record(events path: String) throws(ScenarioError) -> RunRecord {
        try RunRecord(contentsOf: path)
    }

    /// Reads a stored `report.json`.
    ///
    /// - Throws: ``ScenarioError/invalidRecord(path:reason:)`` when it is not JSON.
    package static func report(_ path: String) throws(ScenarioError) -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "cannot open the file")
        }
        do {
            return try JSONValue.parse(Array(data))
        } catch {
            throw .invalidRecord(path: path, reason: "\(error)")
        }
    }
}
