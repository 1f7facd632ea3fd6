import ArgumentParser
import SquallScenarios

/// How `squall sim` writes a run's log: `events.ndjson.gz` (one gzip stream) or `events.ndjson`.
enum LogCompression: String, ExpressibleByArgument, CaseIterable {
    /// gzip from ``EventLogFile/compressionThreshold`` clients, plain below.
    case auto
    /// Always gzip.
    case gzip
    /// Never.
    case none

    /// Whether a scenario of `clients` clients gets a compressed log.
    func compresses(clients: Int) -> Bool {
        switch self {
        case .auto: clients >= EventLogFile.compressionThreshold
        case .gzip: true
        case .none: false
        }
    }
}
