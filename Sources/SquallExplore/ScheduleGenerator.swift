import SquallFaults

/// Fault schedules drawn from Squall's fault catalogue for `squall explore`: timeline steps, each one that ends (a
/// fault with its `for`, a handoff's blackout, a restart or suspension with its `for`), at random times, with random
/// modes, strengths and durations, from a seed. A correct client survives every schedule: after the last step ends
/// the run leaves the job time to finish (``ExploreScenario``), so a failure is the client's.
package struct ScheduleGenerator {
    private var random: SeededRandom

    /// A generator drawing from `seed`.
    package init(seed: UInt64) {
        self.random = SeededRandom(seed: seed, labels: ["explore"])
    }

    /// One to three new steps (one in half the schedules: alone, a step's own effect shows).
    package mutating func fresh() -> [JSONValue] {
        let count = self.integer(0...1) == 0 ? 1 : self.integer(2...3)
        return (0..<count).map { _ in self.step() }
    }

    /// `steps` changed a little: one step redrawn or moved, a step added, or one removed.
    package mutating func mutate(_ steps: [JSONValue]) -> [JSONValue] {
        guard !steps.isEmpty else { return self.fresh() }
        var steps = steps
        let index = self.integer(0...(steps.count - 1))
        switch self.integer(0...3) {
        case 0: steps[index] = self.step()
        case 1:
            if case .object(var entry) = steps[index] {
                entry["at"] = .string("\(self.integer(1_000...40_000))ms")
                steps[index] = .object(entry)
            }
        case 2 where steps.count < 4: steps.append(self.step())
        default: if steps.count > 1 { steps.remove(at: index) } else { steps.append(self.step()) }
        }
        return steps
    }

    /// One step that ends.
    package mutating func step() -> JSONValue {
        var entry: [String: JSONValue] = ["at": .string("\(self.integer(1_000...40_000))ms")]
        let lasting = JSONValue.string("\(self.integer(1_000...45_000))ms")
        switch self.integer(0...9) {
        case 0, 1:
            var handoff: [String: JSONValue] = [
                "mode": .string(self.pick(["reset", "fin", "blackhole"])),
                "during": .string(self.pick(["refuse", "blackhole"])),
            ]
            if self.integer(0...2) > 0 { handoff["blackout"] = .string("\(self.integer(100...12_000))ms") }
            entry["handoff"] = .object(handoff)
        case 2:
            entry["action"] = .string("server_restart")
            entry["for"] = .string("\(self.integer(500...10_000))ms")
        case 3:
            entry["action"] = .string("suspend")
            entry["for"] = .string("\(self.integer(1_000...30_000))ms")
        default:
            let fault = self.fault()
            entry["fault"] = fault
            entry["for"] = lasting
            // An upgrade block sometimes outlasts the fallback allowance: the client must be polling within it.
            if case .object(let members) = fault, members["type"] == .string("block_upgrade"), self.integer(0...2) > 0 {
                entry["for"] = .string("\(self.integer(70_000...120_000))ms")
            }
        }
        return .object(entry)
    }

    /// A fault of the catalogue with attributes in the ranges that matter to a client.
    private mutating func fault() -> JSONValue {
        let (type, attributes): (String, [String: JSONValue])
        switch self.integer(0...16) {
        case 0:
            type = "block_upgrade"
            attributes = [
                "mode": .string(
                    self.pick(["reject", "strip", "reset", "hang", "blackhole_after_101", "buffer_after_101"])
                )
            ]
        case 1: (type, attributes) = ("connect_blackhole", [:])
        case 2: (type, attributes) = ("refuse", [:])
        case 3: (type, attributes) = ("down", [:])
        case 4: (type, attributes) = ("blackhole", [:])
        case 5: (type, attributes) = ("drop_pings", [:])
        case 6: (type, attributes) = ("reset_peer", ["timeout": .number(Double(self.integer(0...2_000)))])
        case 7:
            type = "latency"
            attributes = [
                "latency": .number(Double(self.integer(50...3_000))),
                "jitter": .number(Double(self.integer(0...40))),
            ]
        case 8: (type, attributes) = ("bandwidth", ["rate": .number(Double(self.integer(1...64)))])
        case 9:
            type = "fail_requests"
            attributes = ["mode": .string(self.pick(["answer", "hang"])), "status": .number(503)]
        case 10: (type, attributes) = ("delay_requests", ["delay": .number(Double(self.integer(100...5_000)))])
        case 11:
            type = "close_after_frames"
            attributes = [
                "frames": .number(Double(self.integer(0...10))),
                "code": .number(Double(self.pick([1001, 1006, 1011]))),
            ]
        case 12: (type, attributes) = ("limit_time", ["lifetime": .number(Double(self.integer(500...10_000)))])
        case 13:
            type = "idle_timeout"
            attributes = [
                "timeout": .number(Double(self.integer(1_000...20_000))),
                "close": .string(self.pick(["fin", "reset"])),
            ]
        case 14: (type, attributes) = ("slow_open", ["delay": .number(Double(self.integer(100...5_000)))])
        case 15:
            type = "tcp_loss"
            attributes = ["loss_rate": .number(Double(self.integer(1...10)) / 100)]
        default: (type, attributes) = ("timeout", ["timeout": .number(Double(self.integer(0...5_000)))])
        }
        return .object(["type": .string(type), "attributes": .object(attributes)])
    }

    private mutating func integer(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self.random)
    }

    private mutating func pick<Element>(_ choices: [Element]) -> Element {
        choices[self.integer(0...(choices.count - 1))]
    }
}
