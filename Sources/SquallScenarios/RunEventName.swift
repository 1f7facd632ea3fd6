/// The names of the run's own events in `events.ndjson` (`"source":"run"`): the one vocabulary the runner writes
/// and the metrics, reports and re-checks read.
public enum RunEventName: String, Sendable, Hashable, CaseIterable {
    /// The header: the scenario, seed, digests, version, cores, build.
    case scenario
    /// A client started, with its group, strategy and job.
    case clientStarted = "client_started"
    /// A client could not start (its job could not be created, or its program could not be started).
    case clientFailedToStart = "client_failed_to_start"
    /// An external client's process started.
    case clientProcess = "client_process"
    /// An external client's process exited by itself.
    case clientExited = "client_exited"
    /// An external client's process was still running when the run ended and was stopped.
    case clientTerminated = "client_terminated"
    /// An external client (or a process of its group) ignored SIGTERM and was killed.
    case clientKilled = "client_killed"
    /// A line of an external client's output broke the event contract.
    case clientOutputMalformed = "client_output_malformed"
    /// A timeline fault was applied.
    case faultApplied = "fault_applied"
    /// A timeline fault could not be applied (a proxy refused it); it counts as never injected.
    case faultNotApplied = "fault_not_applied"
    /// A timeline fault was lifted (or healed at the end).
    case faultLifted = "fault_lifted"
    /// A network handoff.
    case handoff
    /// A network profile change.
    case profile
    /// Clients were suspended.
    case clientsSuspended = "clients_suspended"
    /// The reference server restarted its WebSocket side.
    case serverRestart = "server_restart"
    /// An external server was started.
    case serverStarted = "server_started"
    /// An external server answered its ready path.
    case serverReady = "server_ready"
    /// An external server exited before the run ended.
    case serverExited = "server_exited"
    /// An external server's publications could not be read back.
    case publicationsUnknown = "publications_unknown"
    /// Once a second: the harness's lag samples, writer backlog and CPU.
    case harnessLag = "harness_lag"
    /// The run ended, with its reason.
    case runEnded = "run_ended"
}
