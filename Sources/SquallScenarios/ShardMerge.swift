import SquallFaults

/// `squall merge`: the logs of a scenario's shards (`squall run --shard i/N`) joined into the one log of the whole
/// run, after checking that they belong together — the same scenario and plan digests, seed and version, every index
/// 0…N−1 exactly once.
///
/// Each shard's times are moved by its header's `clockOffsetMs` onto the shared clock, then everything is ordered
/// by time. The timeline played on every shard's own proxies at the same moment, so each step is kept once (matched
/// by kind, step and repetition), with the connections it hit or cut summed over the shards, and a step only some
/// shards logged kept as well; clients, servers and harness probes are kept as they are.
public enum ShardMerge {
    /// Why shard logs cannot be merged.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// A log is not a shard's (no `shard`/`shards` in its header) or cannot be read.
        case notAShard(String)
        /// The logs come from different scenarios, plans, seeds or Squall versions.
        case mismatched(String)
        /// Shard indices missing or given more than once.
        case incomplete(missing: [Int], duplicated: [Int], of: Int)

        public var description: String {
            switch self {
            case .notAShard(let reason): "not a shard's log: \(reason)"
            case .mismatched(let reason): "the shards do not belong together: \(reason)"
            case .incomplete(let missing, let duplicated, let count):
                "the shards of \(count) are not all there exactly once:"
                    + (missing.isEmpty ? "" : " missing \(missing.map(String.init).joined(separator: ", "))")
                    + (duplicated.isEmpty ? "" : " given twice \(duplicated.map(String.init).joined(separator: ", "))")
            }
        }
    }

    /// The run events that describe the timeline (played on every shard): kept once in the merged log.
    static let timelineEvents: Set<RunEventName> = [
        .faultApplied, .faultLifted, .faultNotApplied, .handoff, .profile, .clientsSuspended, .serverRestart,
    ]

    /// Merges shard logs, each given as its lines (in any order).
    ///
    /// - Returns: the merged log's lines, in time order.
    /// - Throws: ``Failure`` when they do not make one run.
    public static func merge(_ logs: [[String]]) throws(Failure) -> [String] {
        var shards: [(index: Int, records: [EventRecord])] = []
        var count: Int?
        var identity: [String: String]?
        for (position, lines) in logs.enumerated() {
            var records: [EventRecord] = []
            for line in lines where !line.isEmpty {
                guard let record = try? EventRecord(line: Array(line.utf8)) else {
                    throw .notAShard("log \(position + 1) has a line that is not an event")
                }
                records.append(record)
            }
            guard let header = RunHeader(records: records), let (index, shardCount) = header.shard else {
                throw .notAShard("log \(position + 1) has no shard in its header (run it with --shard i/N)")
            }
            let fields = [
                "scenarioDigest": header.scenarioDigest, "planDigest": header.planDigest, "version": header.version,
                "name": header["name"]?.stringValue ?? "", "seed": header.seed.map(String.init) ?? "",
            ]
            if let identity, identity != fields {
                let differing = fields.keys.sorted().filter { identity[$0] != fields[$0] }
                throw .mismatched(
                    differing.map { "\($0) \(identity[$0] ?? "?") vs \(fields[$0] ?? "?")" }.joined(separator: ", ")
                )
            }
            if let count, count != shardCount {
                throw .mismatched("split into \(count) and into \(shardCount) shards")
            }
            identity = fields
            count = shardCount
            let offset = header.clockOffset
            shards.append((index, records.map { $0.shifted(by: -offset) }))
        }
        guard let count else { throw .notAShard("no logs given") }
        let indices = shards.map(\.index)
        let missing = (0..<count).filter { !indices.contains($0) }
        let duplicated = Set(indices.filter { index in indices.filter { $0 == index }.count > 1 }).sorted()
        guard missing.isEmpty, duplicated.isEmpty, indices.allSatisfy({ (0..<count).contains($0) }) else {
            throw .incomplete(missing: missing, duplicated: duplicated, of: count)
        }
        shards.sort { $0.index < $1.index }
        return Self.join(shards.map(\.records), count: count)
    }

    /// Joins shard records: one header, the timeline once with counts summed, one end.
    ///
    /// Timeline events are matched across shards by what they are, not where they fall: their kind, their step (or
    /// fault name) and which repetition of that pair they are on their shard. A step every shard logged is kept once
    /// (the first shard's, with `connectionsHit`/`connectionsCut` summed); one that only some shards logged — a
    /// `fault_not_applied` on shard 1 alone — is kept too, so no shard's account of the timeline is lost.
    private static func join(_ shards: [[EventRecord]], count: Int) -> [String] {
        var merged: [EventRecord] = []
        var order: [String] = []
        var matched: [String: [EventRecord]] = [:]
        for records in shards {
            var seen: [String: Int] = [:]
            for record in records {
                guard let event = record.runEvent, Self.timelineEvents.contains(event) else { continue }
                let identity = "\(event.rawValue)|\(record.string("step") ?? "")|\(record.string("name") ?? "")"
                let repetition = seen[identity, default: 0]
                seen[identity] = repetition + 1
                let key = "\(identity)|\(repetition)"
                if matched[key] == nil { order.append(key) }
                matched[key, default: []].append(record)
            }
        }
        for key in order {
            let copies = matched[key]!
            var step = copies[0]
            for field in ["connectionsHit", "connectionsCut"] where step.number(field) != nil {
                step.set(field, .number(copies.reduce(0.0) { $0 + ($1.number(field) ?? 0) }))
            }
            if copies.count < count { step.set("shardsLogged", .number(Double(copies.count))) }
            merged.append(step)
        }
        for (index, records) in shards.enumerated() {
            for record in records {
                switch record.runEvent {
                case .scenario?:
                    guard index == 0 else { continue }
                    var header = record
                    header.set("shard", nil)
                    header.set("shards", .number(Double(count)))
                    header.set("merged", .bool(true))
                    merged.append(header)
                case .runEnded?:
                    continue
                case let event? where Self.timelineEvents.contains(event):
                    continue
                default:
                    merged.append(record)
                }
            }
        }
        let ends = shards.compactMap { $0.last { $0.runEvent == .runEnded } }
        if var end = ends.max(by: { $0.time < $1.time }) {
            let interrupted = ends.contains { $0["interrupted"] == .bool(true) } || ends.count < count
            end.set("interrupted", .bool(interrupted))
            if !interrupted, ends.contains(where: { $0.string("reason") == "duration reached" }) {
                end.set("reason", .string("duration reached"))
            }
            merged.append(end)
        }
        // Stable: at one instant the header and the timeline come first, then the shards in order.
        return merged.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .map(\.element.jsonLine)
    }
}
