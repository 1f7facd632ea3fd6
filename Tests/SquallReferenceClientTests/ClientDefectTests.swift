import SquallReferenceClient
import SquallReferenceProtocol
import Testing

/// The mutants' four deliberate defects, each at its one place in the state machine, against `resilient` there.
@Suite struct ClientDefectTests {
    private func message(_ seq: Int) -> ProgressMessage {
        ProgressMessage(
            type: .progress,
            jobId: "job",
            seq: seq,
            timestamp: Int64(seq),
            data: ProgressData(progress: 0.1, processedItems: seq, totalItems: 10, currentStatus: "item \(seq)")
        )
    }

    private func machine(_ name: String) throws -> HybridClientStateMachine {
        var machine = HybridClientStateMachine(strategy: try #require(ClientStrategy.preset(named: name)), seed: 1)
        _ = machine.handle(.start)
        _ = machine.handle(.linkOpened)
        _ = machine.handle(.received(self.message(1)))
        return machine
    }

    @Test func givesUpOnRestart() throws {
        var mutant = try self.machine("mutant-gives-up-on-restart")
        #expect(mutant.handle(.linkClosed(code: 1012, reason: "restart")) == [.finish(.failed)])
        #expect(mutant.isFinished)
        var resilient = try self.machine("resilient")
        let actions = resilient.handle(.linkClosed(code: 1012, reason: "restart"))
        #expect(actions.count == 1)
        guard case .scheduleReconnect(attempt: 1, _)? = actions.first else {
            Issue.record("resilient reconnects: \(actions)")
            return
        }
        // Another close code is an ordinary loss for the mutant too.
        var other = try self.machine("mutant-gives-up-on-restart")
        #expect(!other.handle(.linkClosed(code: 1001, reason: "going away")).contains(.finish(.failed)))
    }

    /// Fails the rung's connects until the machine leaves it; returns the actions of the last failure.
    private func exhaust(_ machine: inout HybridClientStateMachine, tries: Int) -> [HybridClientStateMachine.Action] {
        var last = machine.handle(.linkClosed(code: nil, reason: "reset"))
        for _ in 0..<tries {
            _ = machine.handle(.reconnectTimerFired)
            last = machine.handle(.linkFailed(reason: "refused"))
        }
        return last
    }

    @Test func stopsAfterRetries() throws {
        var mutant = try self.machine("mutant-stops-after-retries")
        #expect(self.exhaust(&mutant, tries: 5) == [.finish(.failed)])
        var resilient = try self.machine("resilient")
        #expect(self.exhaust(&resilient, tries: 5).first == .fallBack(to: .polling, reason: "refused"))
    }

    @Test func forgetsAttempts() throws {
        var mutant = try self.machine("mutant-forgets-attempts")
        let actions = self.exhaust(&mutant, tries: 50)
        guard case .scheduleReconnect(attempt: 1, let wait)? = actions.first else {
            Issue.record("still on its first try: \(actions)")
            return
        }
        #expect(wait <= .milliseconds(1_200))
        #expect(!mutant.isPolling)
    }

    @Test func stateSyncSkipsDeduplication() throws {
        let sync = JobState(
            jobId: "job",
            status: .running,
            processedItems: 2,
            totalItems: 10,
            lastSeq: 2,
            messages: [self.message(1), self.message(2)]
        )
        func delivered(_ name: String) throws -> [Int] {
            var machine = try self.machine(name)
            _ = machine.handle(.received(self.message(3)))  // a gap: a state sync starts
            return machine.handle(.stateSyncAnswered(sync)).compactMap {
                if case .deliver(let message, _) = $0 { return message.seq }
                return nil
            }
        }
        #expect(try delivered("resilient") == [2])
        #expect(try delivered("mutant-state-sync-skips-dedup") == [1, 2])
    }

    @Test func everyMutantIsNamedDocumentedAndDifferentFromResilient() {
        let names = ClientStrategy.mutants.map(\.name)
        #expect(names.count >= 20)
        #expect(Set(names).count == names.count)
        for mutant in ClientStrategy.mutants {
            #expect(mutant.name.hasPrefix("mutant-"))
            #expect(!mutant.summary.isEmpty)
            var plain = mutant
            plain.name = ClientStrategy.resilient.name
            plain.summary = ""
            #expect(plain != ClientStrategy.resilient, "\(mutant.name) changes nothing")
            #expect(ClientStrategy.preset(named: mutant.name) == mutant)
        }
        #expect(ClientStrategy.presets.allSatisfy { $0.defect == nil && $0.summary.isEmpty })
    }
}
