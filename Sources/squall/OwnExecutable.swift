import Foundation

/// This `squall` binary, for commands that start it again as a child (`bench soak`'s driver, `run --shards`).
enum OwnExecutable {
    /// Its path: the target of `/proc/self/exe`, or how it was invoked where there is no `/proc`.
    static var path: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
