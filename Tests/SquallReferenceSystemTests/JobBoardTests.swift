import SquallReferenceProtocol
import Testing

@testable import SquallReferenceServer

/// The reference server's rules as a value, on a hand-driven clock: what the real server and the simulator both
/// carry out.
@Suite struct JobBoardTests {
    /// A clock a test moves by hand: milliseconds.
    struct Moment: InstantProtocol {
        var milliseconds: Int64
        func advanced(by duration: Duration) -> Moment {
            Moment(
                milliseconds: self.milliseconds + duration.components.seconds * 1_000
                    + duration.components.attoseconds / 1_000_000_000_000_000
            )
        }
        func duration(to other: Moment) -> Duration { .milliseconds(other.milliseconds - self.milliseconds) }
        static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.milliseconds < rhs.milliseconds }
    }

    typealias Board = JobBoard<Moment>

    private func refusal(_ answer: Result<JobState, ReferenceAPIError>) -> Int? {
        guard case .failure(let refusal) = answer else { return nil }
        return refusal.statusCode
    }

    private func at(_ milliseconds: Int64) -> Moment { Moment(milliseconds: milliseconds) }

    private func board(totalItems: Int = 3, failAfter: Int? = nil) -> (Board, Board.Next) {
        var board = Board(retention: .seconds(60))
        let creation = JobCreation(totalItems: totalItems, itemInterval: .milliseconds(500), failAfterItems: failAfter)
        let next = board.create(jobId: "job-1", token: "t", creation: creation, now: self.at(1_000))
        return (board, next)
    }

    @Test func itemsAreDueOnDeadlinesFromTheJobsStartAndTheFinishedJobIsForgottenAfterRetention() {
        var (board, next) = self.board()
        #expect(next == .publish(item: 1, at: self.at(1_500)))
        // Published late: the next item is still due on its own deadline.
        next = board.publish(jobId: "job-1", item: 1, now: self.at(1_700), timestamp: 0)!.next
        #expect(next == .publish(item: 2, at: self.at(2_000)))
        next = board.publish(jobId: "job-1", item: 2, now: self.at(2_000), timestamp: 0)!.next
        let last = board.publish(jobId: "job-1", item: 3, now: self.at(2_500), timestamp: 0)!
        #expect(last.message.type == .complete)
        #expect(last.next == .expire(at: self.at(62_500)))
        #expect(board.publish(jobId: "job-1", item: 4, now: self.at(3_000), timestamp: 0) == nil, "an ended job")
        #expect(board.state(jobId: "job-1", token: "t", since: 0).map(\.status) == .success(.completed))
        board.expire(jobId: "job-1")
        #expect(self.refusal(board.state(jobId: "job-1", token: "t", since: 0)) == 404)
        #expect(self.refusal(board.state(jobId: "job-1", token: "other", since: 0)) == 401)
    }

    @Test func aFailingJobEndsAtItsFailurePoint() {
        var (board, _) = self.board(totalItems: 5, failAfter: 2)
        _ = board.publish(jobId: "job-1", item: 1, now: self.at(1_500), timestamp: 0)
        let failed = board.publish(jobId: "job-1", item: 2, now: self.at(2_000), timestamp: 0)!
        #expect(failed.message.type == .error)
        #expect(failed.next == .expire(at: self.at(62_000)))
    }

    @Test func streamsAreAdmittedByIdThenTokenThenRestartThenUpgrade() {
        var (board, _) = self.board()
        let now = self.at(1_000)
        func status(_ jobId: String?, _ token: String?, upgrade: Bool = true) -> Int? {
            switch board.admitStream(jobId: jobId, token: token, isUpgrade: upgrade, now: now) {
            case .success: nil
            case .failure(let refusal): refusal.statusCode
            }
        }
        #expect(status("job-1", "t") == nil)
        #expect(status(nil, "t") == 400)
        #expect(status("job-1", nil) == 401)
        #expect(status("job-2", "t") == 404, "the token is known, the job is not")
        #expect(status("job-1", "t", upgrade: false) == 426, "a stripped upgrade")
        _ = board.restartStreams(downtime: .seconds(2), now: now)
        #expect(status("job-1", "t") == 503)
        #expect(status("job-1", "x") == 401, "the token before the restart window")
        #expect(status("job-1", "t", upgrade: false) == 503, "a stripped upgrade during a restart")
        #expect(
            board.admitStream(jobId: "job-1", token: "t", isUpgrade: true, now: self.at(3_000)) == .success("job-1")
        )
    }

    @Test func subscribersGetTheReplayThenEachMessageUntilARestartEndsThem() {
        var (board, _) = self.board(totalItems: 4)
        _ = board.publish(jobId: "job-1", item: 1, now: self.at(1_500), timestamp: 0)
        _ = board.publish(jobId: "job-1", item: 2, now: self.at(2_000), timestamp: 0)
        guard case .subscribed(let first, let replay) = board.subscribe(jobId: "job-1", after: 1) else {
            Issue.record("not subscribed")
            return
        }
        #expect(replay.map(\.seq) == [2])
        guard case .subscribed(let second, let none) = board.subscribe(jobId: "job-1", after: 2) else {
            Issue.record("not subscribed")
            return
        }
        #expect(none.isEmpty)
        #expect(
            board.publish(jobId: "job-1", item: 3, now: self.at(2_500), timestamp: 0)?.subscribers == [first, second]
        )
        board.unsubscribe(jobId: "job-1", id: first)
        #expect(board.restartStreams(downtime: .zero, now: self.at(2_600)) == [second])
        #expect(board.publish(jobId: "job-1", item: 4, now: self.at(3_000), timestamp: 0)?.subscribers == [])
        guard case .notSubscribed(let backlog, nil) = board.subscribe(jobId: "job-1", after: 2) else {
            Issue.record("a finished job's stream was subscribed")
            return
        }
        #expect(backlog.map(\.seq) == [3, 4], "the backlog, ending with the final message")
        #expect(board.subscribe(jobId: "job-9", after: 0) == .unknownJob)
    }

    @Test func afterShutdownARunningJobsStreamGetsItsReplayAndEnds() {
        var (board, _) = self.board()
        _ = board.publish(jobId: "job-1", item: 1, now: self.at(1_500), timestamp: 0)
        guard case .subscribed(let id, _) = board.subscribe(jobId: "job-1", after: 0) else {
            Issue.record("not subscribed")
            return
        }
        #expect(board.shutDown() == [id])
        guard case .notSubscribed(let replay, let end) = board.subscribe(jobId: "job-1", after: 0) else {
            Issue.record("subscribed after shutdown")
            return
        }
        #expect(replay.map(\.seq) == [1])
        #expect(end == .shutdown)
    }
}
