import NIOHTTP1
import SquallReferenceProtocol

/// Answers the job-progress server's plain HTTP requests: job creation, job state (polling and state sync), health,
/// and the refusals of `/ws/progress` when it is not upgraded.
struct ReferenceRouter: Sendable {
    /// The jobs.
    let store: JobStore
    /// Receives `state_served` events.
    let events: @Sendable (ReferenceServerEvent) -> Void
    /// The largest body accepted.
    let maximumBodySize: Int

    /// The answer to one request.
    ///
    /// - Parameters:
    ///   - head: the request head.
    ///   - body: the whole body.
    /// - Returns: the response.
    func respond(to head: HTTPRequestHead, body: [UInt8]) -> ReferenceResponse {
        switch Result(catching: { () throws(ReferenceAPIError) in try self.route(head, body: body) }) {
        case .success(let response): response
        case .failure(let error): .error(error)
        }
    }

    /// Decides whether `GET /ws/progress` may upgrade: the job for a valid request, else nil (the request is then
    /// answered as plain HTTP with the refusal).
    func upgradeTarget(for head: HTTPRequestHead) -> String? {
        guard head.method == .GET, let target = RequestTarget(head), target.segments == ["ws", "progress"],
            let jobId = target.query["jobId"], !jobId.isEmpty, !self.store.streamsAreDown,
            self.store.access(jobId: jobId, token: target.token) == .granted
        else { return nil }
        return jobId
    }

    private func route(_ head: HTTPRequestHead, body: [UInt8]) throws(ReferenceAPIError) -> ReferenceResponse {
        guard let target = RequestTarget(head) else {
            throw .badRequest("the request target '\(head.uri)' is not a valid URI path")
        }
        switch target.segments {
        case ["api", "jobs"]:
            guard head.method == .POST else { throw .methodNotAllowed(allowed: .POST) }
            return try self.createJob(body: body)
        case let segments where segments.count == 3 && segments[0] == "api" && segments[1] == "job-state":
            guard head.method == .GET else { throw .methodNotAllowed(allowed: .GET) }
            return try self.jobState(jobId: segments[2], target: target)
        case ["ws", "progress"]:
            guard head.method == .GET else { throw .methodNotAllowed(allowed: .GET) }
            guard let jobId = target.query["jobId"], !jobId.isEmpty else {
                throw .badRequest("missing query parameter 'jobId'")
            }
            try self.authorize(jobId: jobId, token: target.token)
            if self.store.streamsAreDown {
                throw .serviceUnavailable("the WebSocket side is restarting; retry shortly or poll")
            }
            throw .upgradeRequired
        case ["healthz"]:
            guard head.method == .GET else { throw .methodNotAllowed(allowed: .GET) }
            return .json(.ok, ["status": "ok"])
        default:
            throw .notFound("no endpoint \(head.method.rawValue) \(head.uri.split(separator: "?").first ?? "")")
        }
    }

    private func createJob(body: [UInt8]) throws(ReferenceAPIError) -> ReferenceResponse {
        let creation: JobCreation
        switch JobCreation.parse(body) {
        case .success(let parsed): creation = parsed
        case .failure(let error): throw .badRequest(error.description)
        }
        let created = self.create(creation)
        return .json(.created, created)
    }

    /// Creates a job and reports `job_created`: the one path for `POST /api/jobs` and in-process creation.
    func create(_ creation: JobCreation) -> JobCreation.Created {
        let created = self.store.create(creation)
        self.events(
            ReferenceServerEvent(
                time: ReferenceServerEvent.now(),
                jobId: created.jobId,
                kind: .jobCreated(totalItems: creation.totalItems, itemInterval: creation.itemInterval)
            )
        )
        return created
    }

    private func jobState(jobId: String, target: RequestTarget) throws(ReferenceAPIError) -> ReferenceResponse {
        try self.authorize(jobId: jobId, token: target.token)
        var since = 0
        if let text = target.query["since"] {
            guard let value = Int(text), value >= 0 else {
                throw .badRequest("query parameter 'since' must be a non-negative integer, found '\(text)'")
            }
            since = value
        }
        guard let state = self.store.jobState(jobId: jobId, since: since) else {
            throw .notFound("no job '\(jobId)' (finished jobs are kept for the server's retention, then forgotten)")
        }
        self.events(
            ReferenceServerEvent(
                time: ReferenceServerEvent.now(),
                jobId: jobId,
                kind: .stateServed(since: since, messages: state.messages.count)
            )
        )
        return .json(.ok, state)
    }

    private func authorize(jobId: String, token: String?) throws(ReferenceAPIError) {
        switch self.store.access(jobId: jobId, token: token) {
        case .granted: return
        case .unauthorized: throw .unauthorized
        case .notFound:
            throw .notFound("no job '\(jobId)' (finished jobs are kept for the server's retention, then forgotten)")
        }
    }
}
