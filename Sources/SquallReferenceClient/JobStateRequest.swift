import NIOCore
import SquallReferenceProtocol

/// `GET /api/job-state/{jobId}?since=N`: the poll and the state sync.
struct JobStateRequest: Sendable {
    /// What a request came to.
    enum Outcome: Sendable {
        /// 200 with a job state.
        case answered(JobState)
        /// Anything else: a status other than 200 (with `status`), or no answer (status nil).
        case failed(status: Int?, reason: String)
    }

    /// How to reach the server.
    let exchange: HTTPExchange
    /// The job's bearer token.
    let token: String

    /// Fetches the job state after `since`.
    func fetch(jobId: String, since: Int) async -> Outcome {
        switch await self.exchange.send(.GET, self.exchange.server.jobStateTarget(jobId: jobId, since: since), token: self.token) {
        case .failure(let failure):
            return .failed(status: nil, reason: failure.description)
        case .success(let answer) where answer.status != .ok:
            let detail = (try? ProtocolJSON.decode(ErrorBody.self, from: answer.body)).map { ": \($0.message)" } ?? ""
            return .failed(status: Int(answer.status.code), reason: "HTTP \(answer.status.code)\(detail)")
        case .success(let answer):
            do {
                return .answered(try ProtocolJSON.decode(JobState.self, from: answer.body))
            } catch {
                return .failed(status: 200, reason: "answer is not a job state: \(error)")
            }
        }
    }
}
