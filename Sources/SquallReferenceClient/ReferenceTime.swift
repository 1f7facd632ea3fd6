import Foundation

/// Wall-clock time as the progress protocol stamps it.
enum ReferenceTime {
    /// Now, in milliseconds since the Unix epoch.
    static func now() -> Double {
        Date().timeIntervalSince1970 * 1_000
    }
}

extension Duration {
    /// The duration in milliseconds.
    var milliseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
