import Foundation

/// The TCP ports a process listens on, read from Linux's `/proc` (its socket descriptors against `/proc/net/tcp`),
/// so a test can reach every listener of a `squall` child — also ones the child never prints.
public enum ListeningPorts {
    /// The listening ports of `pid`, sorted; empty where `/proc` is not there.
    public static func of(pid: Int32) -> [Int] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        var inodes: Set<String> = []
        for descriptor in descriptors {
            guard
                let target = try? FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(pid)/fd/\(descriptor)"
                ),
                target.hasPrefix("socket:[")
            else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        guard let table = try? String(contentsOfFile: "/proc/\(pid)/net/tcp", encoding: .utf8) else { return [] }
        var ports: [Int] = []
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
            guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])) else { continue }
            if let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) {
                ports.append(port)
            }
        }
        return ports.sorted()
    }
}
