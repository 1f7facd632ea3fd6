import Foundation
import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol

extension Scenario {
    /// Reads and validates a scenario; nothing starts until this succeeds.
    ///
    /// - Parameters:
    ///   - json: the scenario document.
    ///   - clientLimit: the most clients in all: ``maximumClients`` for a real run, ``maximumSimulatedClients``
    ///     for `squall sim`.
    /// - Throws: ``FaultError`` naming the JSON path (`timeline[2].fault.attributes.latency`), what was expected
    ///   and what was found.
    public init(json: JSONValue, clientLimit: Int = Scenario.maximumClients) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: "")
        // Every part is checked even after one fails, so a user sees all that is wrong at once (up to
        // `maximumErrors`); parts that depend on a broken one (the timeline on the duration) are skipped.
        var errors = ValidationErrors(limit: Self.maximumErrors)
        // Not `errors.check`: some parts record problems of their own while they are checked.
        func check<T>(_ fallback: T, _ body: () throws(FaultError) -> T) -> T {
            do {
                return try body()
            } catch {
                errors.append(error)
                return fallback
            }
        }
        let name = check("") { () throws(FaultError) -> String in
            let name = try reader.requiredString("name")
            // It names the report folder: a safe file name, never `.` or `..`, well under the 255-byte limit.
            guard !name.isEmpty, name.utf8.count <= Self.maximumNameLength, name != ".", name != "..",
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
            else {
                throw FaultError.invalidValue(
                    path: "name",
                    expected:
                        "1 to \(Self.maximumNameLength) letters, digits, '-', '_' or '.', not \".\" or \"..\" (it names the report folder)",
                    found: JSONValue.string(name).typeDescription
                )
            }
            return name
        }
        let description = check("") { () throws(FaultError) -> String in try reader.string("description") ?? "" }
        let seed = check(SeedTree.defaultSeed) { () throws(FaultError) -> UInt64 in
            UInt64(
                try reader.integer("seed", in: 0...9_007_199_254_740_991, expected: "a whole number from 0 to 2^53 - 1")
                    ?? Int64(SeedTree.defaultSeed)
            )
        }
        let timeScale = check(1.0) { () throws(FaultError) -> Double in
            try reader.number("timeScale", in: 0.001...100, expected: "a number from 0.001 to 100") ?? 1
        }
        let duration = check(nil) { () throws(FaultError) -> Duration? in
            guard let duration = try Self.duration(&reader, "duration") else {
                throw FaultError.missingField(path: "", field: "duration")
            }
            guard duration > .zero else {
                throw FaultError.invalidValue(
                    path: "duration",
                    expected: "a duration above 0",
                    found: "\"\(duration.squallText)\""
                )
            }
            return duration
        }
        let server = check(ServerSpec()) { () throws(FaultError) -> ServerSpec in
            try reader.value("server").map { value throws(FaultError) in try Self.server(value, path: "server") }
                ?? ServerSpec()
        }
        let groups = check([]) { () throws(FaultError) -> [JSONValue] in
            guard let groups = try reader.array("clients"), !groups.isEmpty else {
                throw FaultError.missingField(path: "", field: "clients")
            }
            return groups
        }
        var clients: [ClientGroup] = []
        for (index, group) in groups.enumerated() {
            guard
                let parsed = check(
                    nil,
                    { () throws(FaultError) -> ClientGroup? in
                        try Self.clientGroup(group, path: "clients[\(index)]", limit: clientLimit)
                    }
                )
            else { continue }
            if let duration {
                check(()) { () throws(FaultError) in
                    // A group that starts (or finishes ramping up) after the end would never run all its clients.
                    guard parsed.startAt + parsed.rampUp < duration else {
                        throw FaultError.invalidValue(
                            path: "clients[\(index)].\(parsed.rampUp > .zero ? "rampUp" : "startAt")",
                            expected: "startAt + rampUp before the scenario's end (\(duration.squallText))",
                            found: "\"\(parsed.startAt.squallText)\" + \"\(parsed.rampUp.squallText)\""
                        )
                    }
                }
            }
            var named = parsed
            if clients.contains(where: { $0.name == parsed.name }) {
                let explicitlyNamed =
                    (try? JSONObjectReader(group, path: "")).flatMap({
                        var r = $0
                        return try? r.string("name")
                    }) != nil
                if explicitlyNamed {
                    errors.append(FaultError.duplicateName(path: "clients[\(index)].name", name: parsed.name))
                    continue
                }
                named.name = "\(parsed.name)-\(index + 1)"
            }
            clients.append(named)
        }
        let total = clients.reduce(0) { $0 + $1.count }
        if total > clientLimit {
            errors.append(
                FaultError.invalidValue(
                    path: "clients",
                    expected: "at most \(clientLimit) clients in all"
                        + (clientLimit < Self.maximumSimulatedClients
                            ? " on one runner (shard the run with --shard i/N or --shards N; squall sim runs up to "
                                + "\(Self.maximumSimulatedClients))" : ""),
                    found: "\(total)"
                )
            )
        }
        let network = check(nil) { () throws(FaultError) -> NetworkProfile? in
            try reader.string("network").map { name throws(FaultError) in
                try NetworkProfile.parse(name, path: "network")
            }
        }
        var timeline: [TimelineEntry] = []
        let entries = check([]) { () throws(FaultError) -> [JSONValue] in try reader.array("timeline") ?? [] }
        for (index, value) in entries.enumerated() {
            // Each entry is checked against the duration; without one there is nothing to check it against.
            guard let duration,
                let entry = check(
                    nil,
                    { () throws(FaultError) -> TimelineEntry? in
                        try Self.timelineEntry(
                            value,
                            path: "timeline[\(index)]",
                            groups: clients.map(\.name),
                            duration: duration,
                            timeScale: timeScale
                        )
                    }
                )
            else { continue }
            if entry.action == .serverRestart, server.external != nil {
                errors.append(
                    FaultError.invalidValue(
                        path: "timeline[\(index)].action",
                        expected:
                            "an action an external server allows (server_restart restarts the reference server only)",
                        found: "\"server_restart\""
                    )
                )
                continue
            }
            if case .fault = entry.action, entry.target.clients < 1,
                let external = clients.first(where: {
                    $0.command != nil && (entry.target.groups?.contains($0.name) ?? true)
                })
            {
                // Only reference clients report the ports they connect from; a proxy cannot tell an external
                // client's connections apart, so a fault cannot pick among them.
                errors.append(
                    FaultError.invalidValue(
                        path: "timeline[\(index)].target.clients",
                        expected: "1 for a fault on a group of external clients (\"\(external.name)\" runs a command)",
                        found: "number \(JSONValue.format(entry.target.clients))"
                    )
                )
                continue
            }
            timeline.append(entry)
        }
        let faultNames = timeline.compactMap { entry -> String? in
            if case .fault(let fault) = entry.action { fault.name } else { nil }
        }
        if let duplicate = faultNames.first(where: { name in faultNames.filter { $0 == name }.count > 1 }) {
            let index = timeline.firstIndex {
                if case .fault(let fault) = $0.action { fault.name == duplicate } else { false }
            }!
            errors.append(FaultError.duplicateName(path: "timeline[\(index)].fault.name", name: duplicate))
        }
        var gates: [Gate] = []
        if let value = reader.value("gates") {
            check(()) { () throws(FaultError) in
                var gateReader = try JSONObjectReader(value, path: "gates")
                for key in gateReader.unknownKeys {
                    let path = "gates[\(JSONValue.quote(key))]"
                    guard case .array(let expressions)? = gateReader.value(key), !expressions.isEmpty else {
                        errors.append(
                            FaultError.invalidValue(
                                path: path,
                                expected: "an array of expressions like [\"rate<0.05\"]",
                                found: gateReader.value(key)?.typeDescription ?? "null"
                            )
                        )
                        continue
                    }
                    for (index, expression) in expressions.enumerated() {
                        if let gate = check(
                            nil,
                            { () throws(FaultError) -> Gate? in
                                try Gate(key: key, json: expression, path: "\(path)[\(index)]")
                            }
                        ) {
                            gates.append(gate)
                        }
                    }
                }
            }
            for gate in gates where gate.tags["group"].map({ name in !clients.contains { $0.name == name } }) == true {
                errors.append(
                    FaultError.invalidValue(
                        path: "gates[\(JSONValue.quote(gate.key))]",
                        expected: "a group of this scenario (\(clients.map(\.name).joined(separator: ", ")))",
                        found: "\"\(gate.tags["group"]!)\""
                    )
                )
            }
        }
        for gate in gates where gate.tags["step"].map({ name in !timeline.contains { $0.name == name } }) == true {
            errors.append(
                FaultError.invalidValue(
                    path: "gates[\(JSONValue.quote(gate.key))]",
                    expected: "a timeline step of this scenario (\(timeline.map(\.name).joined(separator: ", ")))",
                    found: "\"\(gate.tags["step"]!)\""
                )
            )
        }
        // Each step's expectations are gates named after the step.
        gates += timeline.flatMap { entry in entry.expect?.gates(step: entry.name) ?? [] }
        gates.sort { ($0.key, $0.expression) < ($1.key, $1.expression) }
        check(()) { () throws(FaultError) in try reader.rejectUnknownKeys() }
        try errors.throwIfAny()
        self.source = json
        self.name = name
        self.description = description
        self.seed = seed
        self.timeScale = timeScale
        self.duration = duration ?? .zero
        self.server = server
        self.clients = clients
        self.network = network
        self.timeline = timeline
        self.gates = gates
    }

    /// The most problems one validation lists; the rest are counted.
    public static let maximumErrors = 20

    /// The longest scenario or group name, in bytes.
    public static let maximumNameLength = 100
    /// The most times one timeline entry may repeat (`every`).
    public static let maximumRepetitions = 10_000

    /// The most clients a real run drives (the sockets of one machine).
    public static let maximumClients = 5_000
    /// The most clients `squall sim` runs.
    public static let maximumSimulatedClients = 1_000_000

    /// Reads a scenario file's bytes.
    ///
    /// - Throws: ``FaultError`` for invalid JSON or an invalid scenario.
    public init(bytes: [UInt8], clientLimit: Int = Scenario.maximumClients) throws(FaultError) {
        guard bytes.count <= Self.maximumDocumentSize else {
            throw FaultError.invalidJSON(
                "the scenario is \(bytes.count) bytes; at most \(Self.maximumDocumentSize) are read (1 MiB)"
            )
        }
        try self.init(json: try JSONValue.parse(bytes), clientLimit: clientLimit)
    }

    /// The largest scenario document read: far above any real scenario (5 000 clients and 10 000 timeline steps
    /// fit in a few kilobytes), far below what would cost real memory to parse.
    public static let maximumDocumentSize = 1 << 20

    static func duration(_ reader: inout JSONObjectReader, _ key: String) throws(FaultError) -> Duration? {
        guard let value = reader.value(key) else { return nil }
        guard case .string(let text) = value, let duration = Duration(parsing: text) else {
            throw FaultError.invalidValue(
                path: reader.path(of: key),
                expected: "a duration such as \"250ms\" or \"2s\"",
                found: value.typeDescription
            )
        }
        return duration
    }

    private static func server(_ value: JSONValue, path: String) throws(FaultError) -> ServerSpec {
        var reader = try JSONObjectReader(value, path: path)
        var spec = ServerSpec()
        if let job = reader.value("job") {
            var jobReader = try JSONObjectReader(job, path: reader.path(of: "job"))
            if let items = try jobReader.integer("totalItems", in: 1...100_000, expected: "an integer from 1 to 100000")
            {
                spec.job.totalItems = Int(items)
            }
            if let interval = try Self.duration(&jobReader, "itemInterval") {
                guard interval > .zero else {
                    throw FaultError.invalidValue(
                        path: jobReader.path(of: "itemInterval"),
                        expected: "a duration above 0",
                        found: "\"0\""
                    )
                }
                spec.job.itemInterval = interval
            }
            if let failAt = try jobReader.integer(
                "failAfterItems",
                in: 1...100_000,
                expected: "a whole number from 1 to 100000"
            ) {
                spec.job.failAfterItems = Int(failAt)
            }
            if let failAt = spec.job.failAfterItems, failAt > spec.job.totalItems {
                throw FaultError.invalidValue(
                    path: jobReader.path(of: "failAfterItems"),
                    expected:
                        "at most the job's totalItems (\(spec.job.totalItems)): the job would end before it fails",
                    found: "\(failAt)"
                )
            }
            try jobReader.rejectUnknownKeys()
        }
        if let ping = try Self.duration(&reader, "pingInterval") {
            guard ping > .zero else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "pingInterval"),
                    expected: "a duration above 0",
                    found: "\"0\""
                )
            }
            spec.pingInterval = ping
        }
        if let pong = try Self.duration(&reader, "pongTimeout") { spec.pongTimeout = pong }
        spec.external = try Self.externalServer(&reader)
        if spec.external != nil {
            for key in ["pingInterval", "pongTimeout"] where reader.value(key) != nil {
                throw FaultError.invalidValue(
                    path: reader.path(of: key),
                    expected: "no \(key) beside \"url\" (it sets the reference server's)",
                    found: "\(key)"
                )
            }
        }
        try reader.rejectUnknownKeys()
        return spec
    }

    private static func externalServer(_ reader: inout JSONObjectReader) throws(FaultError) -> ExternalServerSpec? {
        let command = try ExternalCommand.read(&reader)
        let readyPath = try reader.string("readyPath")
        let readyTimeout = try Self.duration(&reader, "readyTimeout")
        guard let url = try reader.string("url") else {
            if command != nil || readyPath != nil || readyTimeout != nil {
                throw FaultError.missingField(
                    path: reader.path,
                    field: "url (where the external server listens, e.g. \"http://127.0.0.1:{port}\")"
                )
            }
            return nil
        }
        guard ServerAddress(url: url.replacingOccurrences(of: "{port}", with: "1")) != nil else {
            throw FaultError.invalidValue(
                path: reader.path(of: "url"),
                expected: "http://host:port[/prefix] ({port}: a free port Squall picks)",
                found: JSONValue.string(url).typeDescription
            )
        }
        if url.contains("{port}") && command == nil {
            throw FaultError.invalidValue(
                path: reader.path(of: "url"),
                expected: "a fixed port, since Squall does not start this server (no \"command\")",
                found: JSONValue.string(url).typeDescription
            )
        }
        let path = readyPath ?? "/"
        guard path.hasPrefix("/"), !path.contains(" ") else {
            throw FaultError.invalidValue(
                path: reader.path(of: "readyPath"),
                expected: "a path starting with '/'",
                found: JSONValue.string(path).typeDescription
            )
        }
        if let readyTimeout, readyTimeout <= .zero {
            throw FaultError.invalidValue(
                path: reader.path(of: "readyTimeout"),
                expected: "a duration above 0",
                found: "\"\(readyTimeout.squallText)\""
            )
        }
        return ExternalServerSpec(
            url: url,
            command: command,
            readyPath: path,
            readyTimeout: readyTimeout ?? .seconds(30)
        )
    }

    /// Reads one client group, listing every problem in it (not only the first).
    private static func clientGroup(_ value: JSONValue, path: String, limit: Int) throws(FaultError) -> ClientGroup {
        var reader = try JSONObjectReader(value, path: path)
        var errors = ValidationErrors()
        let count = errors.check(1) { () throws(FaultError) -> Int64 in
            guard
                let count = try reader.integer(
                    "count",
                    in: 1...Int64(limit),
                    expected: "an integer from 1 to \(limit)"
                )
            else {
                throw FaultError.missingField(path: path, field: "count")
            }
            return count
        }
        let command = errors.check(nil) { () throws(FaultError) -> ExternalCommand? in
            try ExternalCommand.read(&reader)
        }
        if command != nil {
            for key in ["strategy", "overrides"] where reader.value(key) != nil {
                errors.append(
                    FaultError.invalidValue(
                        path: reader.path(of: key),
                        expected: "no \(key) beside \"command\" (the group runs its own client)",
                        found: "\(key)"
                    )
                )
            }
        }
        let presetName = errors.check("resilient") { () throws(FaultError) -> String in
            try reader.string("strategy") ?? "resilient"
        }
        var strategy = ClientStrategy.preset(named: "resilient")!
        if let preset = ClientStrategy.preset(named: presetName) {
            strategy = preset
            if let overrides = reader.value("overrides") {
                strategy = errors.check(strategy) { () throws(FaultError) -> ClientStrategy in
                    try Self.override(preset, with: overrides, path: reader.path(of: "overrides"))
                }
            }
        } else {
            errors.append(
                FaultError.invalidValue(
                    path: reader.path(of: "strategy"),
                    expected: "a strategy preset (\(ClientStrategy.presets.map(\.name).joined(separator: ", ")))",
                    found: JSONValue.string(presetName).typeDescription
                )
            )
            reader.allow("overrides")
        }
        let name = errors.check("") { () throws(FaultError) -> String in
            let name = try reader.string("name") ?? (command == nil ? presetName : "external")
            guard !name.isEmpty, name.utf8.count <= Self.maximumNameLength,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
            else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "name"),
                    expected:
                        "1 to \(Self.maximumNameLength) letters, digits, '-' or '_' (client ids and file names derive from it)",
                    found: JSONValue.string(name).typeDescription
                )
            }
            return name
        }
        let rampUp = errors.check(.zero) { () throws(FaultError) -> Duration in
            try Self.duration(&reader, "rampUp") ?? .zero
        }
        let startAt = errors.check(.zero) { () throws(FaultError) -> Duration in
            try Self.duration(&reader, "startAt") ?? .zero
        }
        errors.check(()) { () throws(FaultError) in try reader.rejectUnknownKeys() }
        try errors.throwIfAny()
        return ClientGroup(
            name: name,
            count: Int(count),
            rampUp: rampUp,
            startAt: startAt,
            strategy: strategy,
            command: command
        )
    }

    private static func override(
        _ preset: ClientStrategy,
        with value: JSONValue,
        path: String
    ) throws(FaultError) -> ClientStrategy {
        var strategy = preset
        var reader = try JSONObjectReader(value, path: path)
        // Every problem in the overrides is listed, not only the first.
        var errors = ValidationErrors()
        func count(
            _ key: String,
            _ range: ClosedRange<Double>,
            _ reader: inout JSONObjectReader
        ) throws(FaultError) -> Int? {
            guard
                let value = try reader.number(
                    key,
                    in: range,
                    expected: "an integer from \(Int(range.lowerBound)) to \(Int(range.upperBound))"
                )
            else { return nil }
            guard value == value.rounded() else {
                throw FaultError.invalidValue(
                    path: reader.path(of: key),
                    expected: "an integer",
                    found: "number \(JSONValue.format(value))"
                )
            }
            return Int(value)
        }
        func optionalDuration(_ key: String, _ reader: inout JSONObjectReader) throws(FaultError) -> Duration?? {
            guard let value = reader.value(key) else {
                reader.allow(key)
                return .none
            }
            if case .string(let text) = value, text == "never" { return .some(nil) }
            guard case .string(let text) = value, let duration = Duration(parsing: text), duration > .zero else {
                throw FaultError.invalidValue(
                    path: reader.path(of: key),
                    expected: "a duration above 0 or \"never\"",
                    found: value.typeDescription
                )
            }
            return .some(duration)
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try Self.transports(&reader) { strategy.transports = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try count("reconnectAttempts", 0...100, &reader) { strategy.reconnectAttempts = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try Self.duration(&reader, "initialBackoff") { strategy.initialBackoff = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try reader.number("backoffMultiplier", in: 1...10, expected: "a number from 1 to 10") {
                strategy.backoffMultiplier = value
            }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try Self.duration(&reader, "maximumBackoff") { strategy.maximumBackoff = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try reader.number("backoffJitter", in: 0...1, expected: "a fraction from 0 to 1") {
                strategy.backoffJitter = value
            }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try Self.duration(&reader, "pollInterval") {
                guard value > .zero else {
                    throw FaultError.invalidValue(
                        path: reader.path(of: "pollInterval"),
                        expected: "a duration above 0",
                        found: "\"0\""
                    )
                }
                strategy.pollInterval = value
            }
        }
        errors.check(()) { () throws(FaultError) in
            if case .some(let value) = try optionalDuration("probeInterval", &reader) { strategy.probeInterval = value }
        }
        errors.check(()) { () throws(FaultError) in
            if case .some(let value) = try optionalDuration("heartbeatTimeout", &reader) {
                strategy.heartbeatTimeout = value
            }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try reader.bool("stateSync") { strategy.stateSync = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try count("stateSyncAttempts", 0...100, &reader) { strategy.stateSyncAttempts = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try reader.bool("deduplicate") { strategy.deduplicate = value }
        }
        errors.check(()) { () throws(FaultError) in
            if let value = try reader.bool("resume") { strategy.resume = value }
        }
        errors.check(()) { () throws(FaultError) in
            for key in ["connectTimeout", "requestTimeout"] {
                guard let value = try Self.duration(&reader, key) else { continue }
                guard value > .zero else {
                    throw FaultError.invalidValue(
                        path: reader.path(of: key),
                        expected: "a duration above 0 (a client with no time to connect or be answered never can)",
                        found: "\"\(value.squallText)\""
                    )
                }
                if key == "connectTimeout" { strategy.connectTimeout = value } else { strategy.requestTimeout = value }
            }
        }
        errors.check(()) { () throws(FaultError) in
            if strategy.maximumBackoff < strategy.initialBackoff {
                let key = reader.value("maximumBackoff") != nil ? "maximumBackoff" : "initialBackoff"
                throw FaultError.invalidValue(
                    path: reader.path(of: key),
                    expected:
                        "a maximumBackoff no shorter than initialBackoff (\(strategy.initialBackoff.squallText) and \(strategy.maximumBackoff.squallText) here)",
                    found:
                        "\"\((key == "maximumBackoff" ? strategy.maximumBackoff : strategy.initialBackoff).squallText)\""
                )
            }
        }
        errors.check(()) { () throws(FaultError) in try reader.rejectUnknownKeys() }
        try errors.throwIfAny()
        return strategy
    }

    /// A strategy's `transports`: the ladder, each of `websocket`, `sse` and `polling` at most once, `polling` (when
    /// there) last.
    private static func transports(
        _ reader: inout JSONObjectReader
    ) throws(FaultError) -> [HybridClientStateMachine.Transport]? {
        let key = "transports"
        guard let value = reader.value(key) else {
            reader.allow(key)
            return nil
        }
        let path = reader.path(of: key)
        guard case .array(let items) = value else {
            throw FaultError.invalidValue(
                path: path,
                expected: "a non-empty array of transports, tried in order (\(TransportLadder.names))",
                found: value.typeDescription
            )
        }
        var names: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let name) = item else {
                throw FaultError.invalidValue(
                    path: "\(path)[\(index)]",
                    expected: "one of \(TransportLadder.names)",
                    found: item.typeDescription
                )
            }
            names.append(name)
        }
        switch TransportLadder.parse(names) {
        case .success(let ladder):
            return ladder
        case .failure(let problem):
            throw FaultError.invalidValue(
                path: problem.index.map { "\(path)[\($0)]" } ?? path,
                expected: problem.expected,
                found: problem.found
            )
        }
    }

    private static func timelineEntry(
        _ value: JSONValue,
        path: String,
        groups: [String],
        duration: Duration,
        timeScale: Double
    ) throws(FaultError) -> TimelineEntry {
        var reader = try JSONObjectReader(value, path: path)
        // The step's timing, its target and its action are each checked, so a problem in one does not hide another
        // (a fault lists every bad attribute itself).
        var errors = ValidationErrors()
        let timing = errors.check(nil) {
            () throws(FaultError) -> (at: Duration, lasting: Duration?, every: Duration?)? in
            guard let at = try Self.duration(&reader, "at") else {
                throw FaultError.missingField(path: path, field: "at")
            }
            guard at <= duration else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "at"),
                    expected: "a time within the scenario's duration (\(duration.squallText))",
                    found: "\"\(at.squallText)\""
                )
            }
            let lasting = try Self.duration(&reader, "for")
            if let lasting, at + lasting > duration {
                throw FaultError.invalidValue(
                    path: reader.path(of: "for"),
                    expected:
                        "a step that ends within the scenario's duration (\(duration.squallText)): at most \((duration - at).squallText) from \(at.squallText)",
                    found: "\"\(lasting.squallText)\""
                )
            }
            let every = try Self.duration(&reader, "every")
            if let every, let lasting, every <= lasting {
                throw FaultError.invalidValue(
                    path: reader.path(of: "every"),
                    expected: "a period longer than \"for\" (\(lasting.squallText))",
                    found: "\"\(every.squallText)\""
                )
            }
            if let every, every <= .zero {
                throw FaultError.invalidValue(
                    path: reader.path(of: "every"),
                    expected: "a duration above 0",
                    found: "\"0\""
                )
            }
            // Checked before anything is planned: a tiny period would otherwise expand into billions of steps.
            if let every, (duration - at) / every >= Double(Self.maximumRepetitions) {
                throw FaultError.invalidValue(
                    path: reader.path(of: "every"),
                    expected:
                        "a period that repeats at most \(Self.maximumRepetitions) times before the end (at least \(((duration - at) / Self.maximumRepetitions).squallText))",
                    found: "\"\(every.squallText)\""
                )
            }
            return (at, lasting, every)
        }
        let target = errors.check(TimelineEntry.Target.all) { () throws(FaultError) -> TimelineEntry.Target in
            var target = TimelineEntry.Target.all
            if let value = reader.value("target") {
                var targetReader = try JSONObjectReader(value, path: reader.path(of: "target"))
                if let group = targetReader.value("group") {
                    let names: [String]
                    switch group {
                    case .string(let name): names = [name]
                    case .array(let values):
                        names = values.compactMap { if case .string(let name) = $0 { name } else { nil } }
                        guard names.count == values.count, !names.isEmpty else {
                            throw FaultError.invalidValue(
                                path: targetReader.path(of: "group"),
                                expected: "a group name or an array of them",
                                found: group.typeDescription
                            )
                        }
                    case .null, .bool, .number, .object:
                        throw FaultError.invalidValue(
                            path: targetReader.path(of: "group"),
                            expected: "a group name or an array of them",
                            found: group.typeDescription
                        )
                    }
                    if let unknown = names.first(where: { !groups.contains($0) }) {
                        throw FaultError.invalidValue(
                            path: targetReader.path(of: "group"),
                            expected: "a client group (\(groups.joined(separator: ", ")))",
                            found: "\"\(unknown)\""
                        )
                    }
                    target.groups = names
                }
                target.clients = try targetReader.number("clients", in: 0...1, expected: "a fraction from 0 to 1") ?? 1
                target.connections =
                    try targetReader.number("connections", in: 0...1, expected: "a fraction from 0 to 1") ?? 1
                try targetReader.rejectUnknownKeys()
            }
            return target
        }
        let action = errors.check(nil) { () throws(FaultError) -> TimelineEntry.Action? in
            let kinds = ["fault", "handoff", "profile", "action"].filter { reader.value($0) != nil }
            guard kinds.count == 1 else {
                throw FaultError.invalidValue(
                    path: path,
                    expected: "exactly one of \"fault\", \"handoff\", \"profile\" or \"action\"",
                    found: kinds.isEmpty ? "none" : kinds.map { "\"\($0)\"" }.joined(separator: " and ")
                )
            }
            let action: TimelineEntry.Action
            switch kinds[0] {
            case "fault":
                var fault = try Fault(json: reader.value("fault")!, path: reader.path(of: "fault"))
                if fault.name == "\(fault.type.rawValue)_\(fault.direction.rawValue)" {
                    fault.name = "\(path.replacingBrackets).\(fault.type.rawValue)"
                }
                // A run applies the fault times `timeScale`: refuse here, with the path, one that would leave its
                // range once played.
                do throws(FaultError) {
                    _ = try ScenarioClock(timeScale: timeScale).played(fault)
                } catch {
                    throw error.within("\(reader.path(of: "fault")) times timeScale \(JSONValue.format(timeScale))")
                }
                action = .fault(fault)
            case "handoff":
                action = .handoff(try Handoff(json: reader.value("handoff")!, path: reader.path(of: "handoff")))
            case "profile":
                guard case .string(let name) = reader.value("profile")! else {
                    throw FaultError.invalidValue(
                        path: reader.path(of: "profile"),
                        expected: "a profile name or \"none\"",
                        found: reader.value("profile")!.typeDescription
                    )
                }
                action = .profile(
                    name == "none" ? nil : try NetworkProfile.parse(name, path: reader.path(of: "profile"))
                )
            default:
                let name = try reader.requiredString("action")
                switch name {
                case "suspend":
                    guard timing == nil || timing?.lasting != nil else {
                        throw FaultError.missingField(path: path, field: "for")
                    }
                    action = .suspend
                case "server_restart":
                    action = .serverRestart
                default:
                    throw FaultError.invalidValue(
                        path: reader.path(of: "action"),
                        expected: "\"suspend\" or \"server_restart\"",
                        found: JSONValue.string(name).typeDescription
                    )
                }
            }
            return action
        }
        try errors.throwIfAny()
        guard let (at, lasting, every) = timing, let action else {
            throw FaultError.missingField(path: path, field: "at")
        }
        let name: String
        switch action {
        case .fault(let fault): name = fault.name
        case .handoff: name = "\(path.replacingBrackets).handoff"
        case .profile: name = "\(path.replacingBrackets).profile"
        case .suspend: name = "\(path.replacingBrackets).suspend"
        case .serverRestart: name = "\(path.replacingBrackets).server_restart"
        }
        var entry = TimelineEntry(
            at: at,
            lasting: lasting,
            every: every,
            action: action,
            target: target,
            name: name,
            expect: nil
        )
        if let value = reader.value("expect") {
            let expectation = try StepExpectation(json: value, path: reader.path(of: "expect"))
            // The last repetition must leave room to see the expectation met before the run ends; otherwise a
            // client that never recovers could not be told from one the run stopped watching.
            let last = every.map { at + $0 * ((duration - at) / $0).rounded(.down) } ?? at
            if let within = expectation.recoveredWithin {
                guard let length = entry.effectLength else {
                    throw FaultError.invalidValue(
                        path: reader.path(of: "expect") + ".recoveredWithin",
                        expected: "a step that ends (\"for\", or a handoff's blackout) to recover from",
                        found: "a step that lasts until the end of the run"
                    )
                }
                guard last + length + within <= duration else {
                    throw FaultError.invalidValue(
                        path: reader.path(of: "expect") + ".recoveredWithin",
                        expected:
                            "at most \((duration - last - length).squallText): the step's last repetition ends at \((last + length).squallText) and the scenario at \(duration.squallText)",
                        found: "\"\(within.squallText)\""
                    )
                }
            }
            if let within = expectation.fellBackWithin, last + within > duration {
                throw FaultError.invalidValue(
                    path: reader.path(of: "expect") + ".fellBackWithin",
                    expected:
                        "at most \((duration - last).squallText): the step's last repetition starts at \(last.squallText) and the scenario ends at \(duration.squallText)",
                    found: "\"\(within.squallText)\""
                )
            }
            entry.expect = expectation
        }
        try reader.rejectUnknownKeys()
        return entry
    }
}

extension String {
    /// `timeline[2]` → `timeline-2`, for default fault names.
    fileprivate var replacingBrackets: String {
        self.replacingOccurrences(of: "[", with: "-").replacingOccurrences(of: "]", with: "")
    }
}
