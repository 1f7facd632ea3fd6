import Foundation

/// The commit of the source tree this binary was built from, read with git from where the sources were at build
/// time (`#filePath`), with `+dirty` when the tree has uncommitted changes; nil when that tree or git is gone.
enum SourceCommit {
    /// The commit, or nil (asked of git once per process).
    static let current: String? = {
        let folder = ((#filePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        guard let commit = SourceCommit.git(["-C", folder, "rev-parse", "HEAD"]), commit.count == 40 else { return nil }
        let changes = SourceCommit.git(["-C", folder, "status", "--porcelain", "--untracked-files=no"]) ?? ""
        return changes.isEmpty ? commit : commit + "+dirty"
    }()

    private static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
