import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios

/// Where the simulation writes: the run's ``EventLog``, stamped with virtual time (milliseconds since the
/// simulation began), in the order events happen, so one seed gives one byte-identical log. Each event is read into
/// the run's ``RunAnalysis`` as it is written (on a thread of its own, ``AnalysisPipeline``), so the run's metrics
/// need no read back of the file and no event is held.
final class SimulationLog {
    let log: EventLog
    let scheduler: SimulationScheduler
    /// The run's analysis, fed every event as it happens.
    private let analysis = AnalysisPipeline()

    init(log: EventLog, scheduler: SimulationScheduler) {
        self.log = log
        self.scheduler = scheduler
    }

    /// A client's event, now.
    func client(_ id: String, jobId: String, _ kind: ClientEvent.Kind) {
        let event = ClientEvent(time: self.scheduler.now, clientId: id, jobId: jobId, kind: kind)
        self.log.record(event)
        self.analysis.add(LoggedEvent(time: Self.written(event.time), event: .client(event)))
    }

    /// A server event, now.
    func server(jobId: String, _ kind: ReferenceServerEvent.Kind) {
        let event = ReferenceServerEvent(time: self.scheduler.now, jobId: jobId, kind: kind)
        self.log.record(event)
        self.analysis.add(LoggedEvent(time: Self.written(event.time), event: .server(event)))
    }

    /// A run event, now.
    func run(_ event: RunnerEvent) {
        self.log.record(event, time: self.scheduler.now)
        self.analysis.add(LoggedEvent(time: Self.written(self.scheduler.now), event: .run(event)))
    }

    /// Hands over the analysis of every event so far, once it has read them (the log keeps an empty one): taken, not
    /// copied, since finishing a copy would copy its million clients' state first.
    func takeAnalysis() -> RunAnalysis {
        self.analysis.finish()
    }

    /// A time as its line reads back: rounded to the microsecond the log writes, so the run's metrics and a re-check
    /// of its file see the same times.
    private static func written(_ time: Double) -> Double {
        (time * 1_000).rounded() / 1_000
    }
}
