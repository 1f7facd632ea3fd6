import Foundation

/// A Python virtual environment an example's `setup.sh` made, for the tests that run it.
public enum PythonVenv {
    /// Whether `python` exists and imports every module of `modules` (a comma-separated list).
    public static func canImport(_ modules: String, python: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = ["-c", "import \(modules)"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }
}
