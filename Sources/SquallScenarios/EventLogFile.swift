import Foundation

/// The names a run's log takes in its report folder: `events.ndjson`, or `events.ndjson.gz` when it is compressed
/// (the same lines, one gzip stream). Every reader (``RunRecord/init(contentsOf:)``, recheck, report, merge,
/// `--check-determinism`) takes either.
package enum EventLogFile {
    /// The plain log's name.
    package static let plain = "events.ndjson"
    /// The compressed log's name.
    package static let compressed = "events.ndjson.gz"
    /// From this many clients a simulation writes its log compressed unless told otherwise: a 10 000-client herd
    /// writes 83 MB of NDJSON, a 100 000-client one 827 MB, a million ~8 GB.
    package static let compressionThreshold = 10_000

    /// The log's name.
    package static func name(compressed: Bool) -> String {
        compressed ? Self.compressed : Self.plain
    }

    /// Whether `name` (a file name, or a path) is a run's log.
    package static func isLog(_ name: String) -> Bool {
        let last = (name as NSString).lastPathComponent
        return last == Self.plain || last == Self.compressed
    }

    /// The log in `folder`, plain first; nil when it holds neither.
    package static func find(in folder: String) -> String? {
        for name in [Self.plain, Self.compressed] {
            let path = (folder as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }
}
