import SquallFaults

/// The scenario `squall explore` runs a schedule in, and the resilience contract it judges every client by: no
/// message lost, duplicated or invented; every job completed; no client left polling once the faults are gone (back
/// on WebSocket after a lift within the schedule's outage and ``recoveryAllowance``); no reconnect or polling storm, nor more reconnects than
/// the faults explain (``reconnectAllowance(_:)``); no update later than the schedule's outage and a recovery allowance; and, when a
/// step refuses the WebSocket upgrade outright (`block_upgrade` `reject`, `strip` or `reset`) for longer than
/// ``fallbackAllowance`` and more, clients on polling within it.
///
/// The job lasts until 45 s after the schedule's last step ends and the run a minute more, so a client that
/// recovers as the resilient preset does (back within its backoff, fallback and probe times) always finishes:
/// a failed gate is the client's, never the schedule's.
package enum ExploreScenario {
    /// How long after an outright upgrade refusal begins a client must be polling: `resilient` falls back after
    /// five tries and 31 s of backoff (37 s with +20 % jitter). (A hung or black-holed upgrade is left out: a
    /// correct client's fallback then also waits out connect and heartbeat timeouts, up to minutes.)
    package static let fallbackAllowance = 60_000
    /// How long after the outage a delayed update may still arrive (a poll interval, a probe and margin).
    package static let recoveryAllowance = 45_000

    /// The contract's gates for `clients` clients facing `steps`.
    package static func gates(clients: Int, steps: [JSONValue]) -> JSONValue {
        .object([
            "lost_messages": .array([.string("count==0")]),
            "duplicate_messages": .array([.string("count==0")]),
            "unexpected_messages": .array([.string("count==0")]),
            "completion_rate": .array([.string("rate==1")]),
            "stuck_on_polling_rate": .array([.object(["threshold": .string("rate==0"), "allowEmpty": .bool(true)])]),
            "server_connect_rate_peak": .array([.string("count<=\(4 * clients)")]),
            "polling_rate_peak": .array([.string("count<=\(3 * clients)")]),
            "update_latency_ms": .array([.string("max<\(self.outage(steps) + self.recoveryAllowance)")]),
            "time_on_polling_after_recovery_ms": .array([
                .object([
                    "threshold": .string("max<=\(self.outage(steps) + self.recoveryAllowance)"),
                    "allowEmpty": .bool(true),
                ])
            ]),
            "reconnect_attempts": .array([.string("count<=\(clients * self.reconnectAllowance(steps))")]),
        ])
    }

    /// Reconnects a client may make: two, and for each step one a second it is in force and six more (a correct
    /// client reconnects at most about once a second while a fault keeps cutting it, and spends its tries once).
    static func reconnectAllowance(_ steps: [JSONValue]) -> Int {
        2 + steps.map { step in (self.span(step).end - self.span(step).start) / 1_000 + 6 }.reduce(0, +)
    }

    /// The metrics of the contract: a failure of any other gate (a fault that acted on no connection) says
    /// nothing about the client.
    package static let contractMetrics: Set<String> = [
        "lost_messages", "duplicate_messages", "unexpected_messages", "completion_rate", "stuck_on_polling_rate",
        "server_connect_rate_peak", "polling_rate_peak", "update_latency_ms", "step_fallback_ms",
        "time_on_polling_after_recovery_ms", "reconnect_attempts", "step_recovery_ms",
    ]

    /// A step's start and end (scenario ms): its `at`, and its `for` or its handoff's blackout after it.
    static func span(_ step: JSONValue) -> (start: Int, end: Int) {
        guard case .object(let entry) = step else { return (0, 0) }
        func milliseconds(_ value: JSONValue?) -> Int { Int(ScenarioDraft.milliseconds(value) ?? 0) }
        var blackout = 0
        if case .object(let handoff)? = entry["handoff"] { blackout = milliseconds(handoff["blackout"]) }
        let start = milliseconds(entry["at"])
        return (start, start + max(milliseconds(entry["for"]), blackout))
    }

    /// When `steps`' last one ends (scenario ms).
    package static func lastEnd(_ steps: [JSONValue]) -> Int {
        steps.map { self.span($0).end }.max() ?? 0
    }

    /// How long some step is in force (the union of their spans, ms).
    package static func outage(_ steps: [JSONValue]) -> Int {
        var total = 0
        var reach = Int.min
        for (start, end) in steps.map(self.span).sorted(by: { $0.start < $1.start }) {
            total += max(0, end - max(start, reach))
            reach = max(reach, end)
        }
        return total
    }

    /// `steps` with a fallback expectation on each outright upgrade refusal that lasts past the allowance and a
    /// margin, alone: no other step in force from 40 s before it (a black-holed link takes a heartbeat timeout to
    /// notice) to the allowance's end — another step's outage would add to the client's fallback time.
    static func expecting(_ steps: [JSONValue]) -> [JSONValue] {
        let last = steps.indices.max { self.span(steps[$0]).end < self.span(steps[$1]).end }
        return steps.enumerated().map { index, step in
            guard case .object(var entry) = step, entry["expect"] == nil else { return step }
            var expect: [String: JSONValue] = [:]
            if self.owesFallback(index, in: steps) {
                expect["fellBackWithin"] = .string("\(self.fallbackAllowance)ms")
            }
            if index == last, self.owesRecovery(step, among: steps) {
                expect["recoveredWithin"] = .string("\(self.recoveryAllowance)ms")
            }
            guard !expect.isEmpty else { return step }
            entry["expect"] = .object(expect)
            return .object(entry)
        }
    }

    /// Whether step `index` is an outright upgrade refusal that lasts past the allowance and a margin, with no other
    /// step in force from 40 s before it to the allowance's end.
    private static func owesFallback(_ index: Int, in steps: [JSONValue]) -> Bool {
        let span = self.span(steps[index])
        let alone = steps.enumerated().allSatisfy { other, neighbour in
            let (start, end) = self.span(neighbour)
            return other == index || end < span.start - 40_000 || start > span.start + self.fallbackAllowance
        }
        guard alone, case .object(let entry) = steps[index], case .object(let fault)? = entry["fault"],
            fault["type"] == .string("block_upgrade"), case .object(let attributes)? = fault["attributes"],
            case .string(let mode)? = attributes["mode"], ["reject", "strip", "reset"].contains(mode)
        else { return false }
        return span.end - span.start >= self.fallbackAllowance + 10_000
    }

    /// Whether the last step owes a recovery within ``recoveryAllowance`` of its end: when no other step is in
    /// force in the minute before that end (a correct client probes every 30 s and notices a silent link within
    /// its 30 s heartbeat).
    private static func owesRecovery(_ step: JSONValue, among steps: [JSONValue]) -> Bool {
        let end = self.span(step).end
        return steps.allSatisfy { other in other == step || self.span(other).end < end - 60_000 }
    }

    /// The scenario for `steps` with `clients` clients of `strategy`, seeded `seed`.
    package static func json(
        name: String,
        steps: [JSONValue],
        strategy: String,
        clients: Int,
        seed: UInt64
    ) -> JSONValue {
        let items = (self.lastEnd(steps) + 45_000 + 999) / 1_000
        return .object([
            "name": .string(name),
            "description": .string("Generated by squall explore: \(steps.count) fault steps against \(strategy)."),
            "seed": .number(Double(seed)),
            "timeScale": .number(0.1),
            "duration": .string("\(items * 1_000 + 60_000)ms"),
            "server": .object(["job": .object(["totalItems": .number(Double(items)), "itemInterval": .string("1s")])]),
            "clients": .array([
                .object(["count": .number(Double(clients)), "rampUp": .string("1s"), "strategy": .string(strategy)])
            ]),
            "timeline": .array(self.expecting(steps)),
            "gates": self.gates(clients: clients, steps: steps),
        ])
    }
}
