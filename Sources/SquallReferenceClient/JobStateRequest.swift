import NIOCore
import NIOHTTP1
import NIOPosix
import SquallReferenceProtocol

/// `GET /api/job-state/{jobId}?since=N`: the poll and the state sync, and how the scenario runner reads what an
/// external server published.
package struct JobStateRequest: Sendable {
    /// What a request came to.
    package enum Outcome: Sendable {
        /// 200 with a job state.
        case answered(JobState)
        /// Anything else: a status other than 200 (with `status`), or no answer (status nil).
        case failed(status: Int?, reason: String)
    }

    /// How to reach the server.
    let exchange: HTTPExchange
    /// The job's bearer token.
    let token: String

    /// Creates a request straight to `server` (the scenario runner's view, not through a proxy).
    package init(server: ServerAddress, token: String, timeout: Duration = .seconds(10)) {
        self.exchange = HTTPExchange(
            server: server,
            timeout: timeout,
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton
        )
        self.token = token
    }

    init(exchange: HTTPExchange, token: String) {
        self.exchange = exchange
        self.token = token
    }

    /// Fetches the job state after `since`.
    package func fetch(jobId: String, since: Int) async -> Outcome {
        switch await self.exchange.send(
            .GET,
            self.exchange.server.jobStateTarget(jobId: jobId, since: since),
            token: self.token
        ) {
        case .failure(let failure):
            return .failed(status: nil, reason: failure.description)
        case .success(let answer) where answer.status != .ok:
            let status = Int(answer.status.code)
            return .failed(
                status: status,
                reason: FailureReason.answered(status: status, body: answer.body).description
            )
        case .success(let answer):
            do {
                return .answered(try ProtocolJSON.decode(JobState.self, from: answer.body))
            } catch {
                return .failed(status: 200, reason: FailureReason.unreadableAnswer("\(error)").description)
            }
        }
    }
}
