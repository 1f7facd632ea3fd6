import NIOCore
import NIOHTTP1
import NIOPosix
import SquallReferenceProtocol

/// `POST /api/jobs`: starts a job on a job-progress server (the reference one or a team's own), for the
/// `squall client --new-job` shortcut and for scenarios against external servers.
package struct JobCreationRequest: Sendable {
    /// The server.
    package var server: ServerAddress
    /// The bound on the request; default 10 s.
    package var timeout: Duration

    /// Creates a request.
    package init(server: ServerAddress, timeout: Duration = .seconds(10)) {
        self.server = server
        self.timeout = timeout
    }

    /// Creates the job.
    ///
    /// - Parameters:
    ///   - creation: items and pace.
    ///   - eventLoopGroup: the loops to run on.
    /// - Returns: the job id and token.
    /// - Throws: ``ReferenceClientError/jobCreationFailed(server:reason:)`` when the server does not answer 201 with
    ///   a job.
    package func send(
        _ creation: JobCreation,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ReferenceClientError) -> JobCreation.Created {
        let exchange = HTTPExchange(server: self.server, timeout: self.timeout, eventLoopGroup: eventLoopGroup)
        let target = self.server.pathPrefix + "/api/jobs"
        switch await exchange.send(.POST, target, token: nil, body: Array(creation.jsonBody.utf8)) {
        case .failure(let failure):
            throw .jobCreationFailed(server: self.server, reason: failure.description)
        case .success(let answer) where answer.status != .created && answer.status != .ok:
            let reason = FailureReason.answered(status: Int(answer.status.code), body: answer.body)
            throw .jobCreationFailed(server: self.server, reason: reason.description)
        case .success(let answer):
            guard let created = try? ProtocolJSON.decode(JobCreation.Created.self, from: answer.body) else {
                throw .jobCreationFailed(server: self.server, reason: "the answer has no jobId and token")
            }
            return created
        }
    }
}
