import Foundation

/// A snapshot of a running scenario for the live progress line.
public struct RunProgress: Sendable, Hashable {
    /// Scenario time elapsed.
    public var elapsed: Duration
    /// The scenario's duration.
    public var total: Duration
    /// Clients not started yet.
    public var pending: Int
    /// Clients on WebSocket now.
    public var websocket: Int
    /// Clients on an event stream now.
    public var eventStream: Int = 0
    /// Clients connecting or between reconnect tries.
    public var reconnecting: Int
    /// Clients polling.
    public var polling: Int
    /// Clients done (finished or stopped).
    public var done: Int
    /// Faults in force, by name.
    public var activeFaults: [String]

    /// `12.0s/60s  ws 40  reconnecting 3  polling 2  done 5  faults: latency` (`sse N` after `ws` while some client is
    /// on an event stream).
    public var line: String {
        let elapsed = Double(self.elapsed.components.seconds) + Double(self.elapsed.components.attoseconds) / 1e18
        let total = Double(self.total.components.seconds) + Double(self.total.components.attoseconds) / 1e18
        var text =
            "\(String(format: "%5.1f", elapsed))s/\(String(format: "%.0f", total))s  ws \(self.websocket)\(self.eventStream > 0 ? "  sse \(self.eventStream)" : "")  reconnecting \(self.reconnecting)  polling \(self.polling)  done \(self.done)"
        if self.pending > 0 { text += "  waiting \(self.pending)" }
        text += "  faults: " + (self.activeFaults.isEmpty ? "none" : self.activeFaults.joined(separator: ", "))
        return text
    }
}
