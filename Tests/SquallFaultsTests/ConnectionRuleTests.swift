import SquallFaults
import Testing

/// The connect and lifetime faults' rules on hand-made inputs: what the proxy and the simulator both carry out.
@Suite struct ConnectionRuleTests {
    private func fault(_ name: String, _ type: FaultType, _ attributes: [String: Double] = [:]) throws -> Fault {
        try Fault(name: name, type: type, attributes: attributes)
    }

    @Test func theFirstRefuseOrBlackholeDecidesAndSlowOpensBeforeItAddUp() throws {
        let slow = try self.fault("slow", .slowOpen, ["delay": 200])
        let slower = try self.fault("slower", .slowOpen, ["delay": 300])
        let refuse = try self.fault("no", .refuse)
        let hole = try self.fault("hole", .connectBlackhole)
        #expect(ConnectRule.decide([]).decision == .open(after: .zero))
        #expect(ConnectRule.decide([slow, slower]).decision == .open(after: .milliseconds(500)))
        let refused = ConnectRule.decide([slow, refuse, hole])
        #expect(refused.decision == .refuse(fault: "no"))
        #expect(refused.acted.map(\.name) == ["slow", "no"], "the blackhole after it never acted")
        #expect(ConnectRule.decide([hole, refuse]).decision == .blackhole(fault: "hole"), "in the order added")
        let latency = try self.fault("lat", .latency, ["latency": 10])
        #expect(ConnectRule.decide([latency]).acted.isEmpty, "other faults are not connect faults")
    }

    @Test func theEarliestLifetimeClosesWithAFin() throws {
        let rule = ConnectionLimitRule([
            try self.fault("long", .limitTime, ["lifetime": 900]),
            try self.fault("short", .limitTime, ["lifetime": 400]),
        ])
        #expect(rule.acting == ["short"])
        #expect(
            rule.check(sinceOpen: .milliseconds(100), sinceActivity: .zero) == .check(atSinceOpen: .milliseconds(400))
        )
        #expect(rule.check(sinceOpen: .milliseconds(400), sinceActivity: .zero) == .close(.fin, fault: "short"))
    }

    @Test func theShortestIdleTimeoutClosesOnceNothingPassedForThatLong() throws {
        let rule = ConnectionLimitRule([
            try Fault(name: "idle", type: .idleTimeout, attributes: ["timeout": 250], text: ["close": "reset"]),
            try self.fault("lazy", .idleTimeout, ["timeout": 5_000]),
        ])
        #expect(rule.acting == ["idle"])
        // Traffic 100 ms ago: look again when 250 ms will have passed since it.
        #expect(
            rule.check(sinceOpen: .milliseconds(1_000), sinceActivity: .milliseconds(100))
                == .check(atSinceOpen: .milliseconds(1_150))
        )
        #expect(
            rule.check(sinceOpen: .milliseconds(1_150), sinceActivity: .milliseconds(250))
                == .close(.reset, fault: "idle")
        )
        #expect(ConnectionLimitRule([]).check(sinceOpen: .seconds(9), sinceActivity: .seconds(9)) == .none)
    }

    @Test func aLifetimeAndAnIdleTimeoutAreWatchedTogether() throws {
        let rule = ConnectionLimitRule([
            try self.fault("life", .limitTime, ["lifetime": 1_000]),
            try self.fault("idle", .idleTimeout, ["timeout": 300]),
        ])
        #expect(rule.acting == ["life", "idle"])
        #expect(
            rule.check(sinceOpen: .milliseconds(900), sinceActivity: .milliseconds(50))
                == .check(atSinceOpen: .milliseconds(1_000))
        )
        #expect(
            rule.check(sinceOpen: .milliseconds(500), sinceActivity: .milliseconds(300)) == .close(.fin, fault: "idle")
        )
    }
}
