import Foundation
import SquallFaults
import SquallScenarios

/// Finds and reads scenario files: a folder stands for its `*.json` files (sorted), a file for itself.
enum ScenarioFiles {
    /// The scenario files under `paths`.
    ///
    /// - Throws: ``ScenarioError/unreadable(path:reason:)`` for a path that does not exist or a folder without
    ///   scenarios.
    static func list(_ paths: [String]) throws(ScenarioError) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .unreadable(path: path, reason: "no such file or folder")
            }
            if isDirectory.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter {
                    $0.hasSuffix(".json")
                }.sorted()
                guard !names.isEmpty else {
                    throw .unreadable(path: path, reason: "the folder has no *.json scenarios")
                }
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// Reads and validates one scenario file.
    ///
    /// - Throws: ``ScenarioError/invalid(file:_:)`` naming the JSON path, or ``ScenarioError/unreadable(path:reason:)``.
    static func load(_ file: String, clientLimit: Int = Scenario.maximumClients) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .unreadable(path: file, reason: "cannot open the file")
        }
        do {
            return try Scenario(bytes: Array(data), clientLimit: clientLimit)
        } catch {
            throw .invalid(file: file, error)
        }
    }
}
