import NIOHTTP1
import SquallReferenceProtocol

/// Answers the job-progress server's plain HTTP requests: job creation, job state (polling and state sync), health,
/// the refusals of `/ws/progress` when it is not upgraded and of `/sse/progress` when it may not stream; and says
/// which requests become event streams.
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
        guard head.method == .GET, let target = RequestTarget(head), target.segments == ["ws", "progress"] else {
            return nil
        }
        return try? self.store.admitStream(jobId: target.query["jobId"], token: target.token, isUpgrade: true).get()
    }

    /// Whether `head` asks for an event stream (`GET /sse/progress?jobId=…`): nil for any other request, else the
    /// job and the client's `Last-Event-ID` when it may stream, or the refusal (the same checks, in the same order,
    /// as a WebSocket upgrade: the job id, the token, the restart window).
    func eventStream(for head: HTTPRequestHead) -> Result<EventStreamRequest, ReferenceAPIError>? {
        guard let target = RequestTarget(head), target.segments == ["sse", "progress"] else { return nil }
        guard head.method == .GET else { return .failure(.methodNotAllowed(allowed: .GET)) }
        return self.store.admitStream(jobId: target.query["jobId"], token: target.token, isUpgrade: true).map {
            EventStreamRequest(jobId: $0, lastEventId: head.headers["Last-Event-ID"].first)
        }
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
            // Not upgraded: the board's refusal, 426 when nothing else is wrong.
            switch self.store.admitStream(jobId: target.query["jobId"], token: target.token, isUpgrade: false) {
            case .success: throw .upgradeRequired
            case .failure(let refusal): throw refusal
            }
        case ["sse", "progress"]:
            // Only a refused stream is answered here (an admitted one became an event stream before routing).
            if case .failure(let refusal)? = self.eventStream(for: head) { throw refusal }
            throw .badRequest("the event stream could not be opened")
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
        let text = target.query["since"]
        let since = text.map { Int($0).flatMap { $0 >= 0 ? $0 : nil } } ?? 0
        // The token is checked first: a stranger learns nothing, not even that the query was wrong.
        let state = try self.store.jobState(jobId: jobId, token: target.token, since: since ?? 0).get()
        guard let since else {
            throw .badRequest("query parameter 'since' must be a non-negative integer, found '\(text ?? "")'")
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
}
