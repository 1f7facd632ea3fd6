import SquallReferenceProtocol
import SquallReferenceServer
import Testing

/// The progress stream's protocol without sockets or clocks: what the reference server and the simulator both run.
@Suite struct ProgressStreamStateMachineTests {
    private let configuration = ReferenceServerConfiguration(
        pingInterval: .seconds(10),
        pongTimeout: .seconds(25),
        readyTimeout: .seconds(5)
    )

    private func message(_ seq: Int, _ type: ProgressMessage.MessageType = .progress) -> ProgressMessage {
        var job = JobProgress(jobId: "job-1", creation: JobCreation(totalItems: type == .complete ? seq : 10))
        var last: ProgressMessage?
        for item in 1...seq { last = job.publish(item: item, time: Double(item)) }
        return last!
    }

    @Test func readyIsAcknowledgedThenSubscribedAfterItsLastSeq() {
        var machine = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        #expect(
            machine.handle(.text(#"{"type":"ready","lastSeq":4}"#)) == [
                .send(.readyAck(lastSeq: 4)), .subscribe(after: 4),
            ]
        )
        #expect(machine.handle(.text(#"{"type":"ready","lastSeq":1}"#)).isEmpty, "a second ready is ignored")
        #expect(machine.handle(.message(self.message(5))) == [.send(.message(self.message(5)))])
    }

    @Test func aFirstTextThatIsNotReadyIsAPolicyViolation() {
        var machine = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        #expect(
            machine.handle(.text("hello")) == [
                .send(.close(code: 1008, reason: #"expected {"type":"ready","lastSeq":N} first"#)), .startCloseTimer,
            ]
        )
        #expect(
            machine.handle(.peerClose(code: 1008)) == [.finish(reason: #"expected {"type":"ready","lastSeq":N} first"#)]
        )
        #expect(machine.isFinished)
    }

    @Test func keepAlivePingsOnScheduleAndClosesOnAMissingReadyOrPong() {
        var silent = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        #expect(silent.handle(.tick(now: 4_999)).isEmpty)
        #expect(
            silent.handle(.tick(now: 5_000)) == [
                .send(.close(code: 1008, reason: "no ready within 5000ms")), .startCloseTimer,
            ]
        )

        var machine = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        _ = machine.handle(.text(#"{"type":"ready","lastSeq":0}"#))
        #expect(machine.handle(.tick(now: 9_999)).isEmpty)
        #expect(machine.handle(.tick(now: 10_000)) == [.send(.ping)])
        #expect(machine.handle(.pong(now: 10_010)).isEmpty)
        #expect(machine.handle(.tick(now: 20_000)) == [.send(.ping)])
        #expect(machine.handle(.tick(now: 30_000)) == [.send(.ping)])
        // No pong since 10 010: at 35 010 the pong timeout (25 s) closes the stream.
        #expect(machine.handle(.tick(now: 35_000)).isEmpty)
        #expect(
            machine.handle(.tick(now: 35_010)) == [.send(.close(code: 1001, reason: "pong timeout")), .startCloseTimer]
        )
        #expect(machine.handle(.closeTimedOut) == [.finish(reason: "pong timeout")])
    }

    @Test func theFinalMessageClosesWith1000AndARestartWith1012() {
        var machine = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        _ = machine.handle(.text(#"{"type":"ready","lastSeq":0}"#))
        let final = self.message(3, .complete)
        #expect(
            machine.handle(.message(final)) == [
                .send(.message(final)), .send(.close(code: 1000, reason: "job completed")), .startCloseTimer,
            ]
        )
        #expect(machine.handle(.message(self.message(4))).isEmpty, "nothing is sent after our close")
        #expect(machine.handle(.peerGone(reason: "client disconnected")) == [.finish(reason: "job completed")])

        var restarted = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        _ = restarted.handle(.text(#"{"type":"ready","lastSeq":0}"#))
        #expect(
            restarted.handle(.serverEnded(.restart)) == [
                .send(.close(code: 1012, reason: "service restart")), .startCloseTimer,
            ]
        )
    }

    @Test func theClientsCloseIsEchoedAndEndsTheStream() {
        var machine = ProgressStreamStateMachine(configuration: self.configuration, now: 0)
        #expect(
            machine.handle(.peerClose(code: 1001)) == [
                .send(.close(code: 1001, reason: "")), .finish(reason: "client closed (1001)"),
            ]
        )
        #expect(machine.handle(.tick(now: 60_000)).isEmpty)
    }

    @Test func aJobPublishesProgressThenItsFinalMessageAndNothingAfter() {
        var job = JobProgress(jobId: "job-1", creation: JobCreation(totalItems: 3, failAfterItems: nil))
        #expect(job.publish(item: 1, time: 10.7)?.timestamp == 10)
        #expect(job.publish(item: 2, time: 20)?.type == .progress)
        #expect(job.publish(item: 3, time: 30)?.type == .complete)
        #expect(job.publish(item: 4, time: 40) == nil)
        #expect(job.state(since: 1).messages.map(\.seq) == [2, 3])
        #expect(job.state(since: 0).status == .completed)
        var failing = JobProgress(jobId: "job-2", creation: JobCreation(totalItems: 5, failAfterItems: 2))
        _ = failing.publish(item: 1, time: 0)
        #expect(failing.publish(item: 2, time: 0)?.type == .error)
        #expect(failing.status == .failed)
    }
}
