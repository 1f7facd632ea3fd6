import SquallFaults
import SquallReferenceClient
import SquallReferenceProtocol
import SquallReferenceServer
import SquallScenarios

/// Where the simulation writes: the run's ``EventLog``, stamped with virtual time (milliseconds since the
/// simulation began), in the order events happen, so one seed gives one byte-identical log. Each event's record is
/// built from the same typed fields as its line, so the run's metrics need no read back of the file.
final class SimulationLog {
    let log: EventLog
    let scheduler: SimulationScheduler
    /// Every event, typed, in time order.
    private(set) var events: [LoggedEvent] = []

    init(log: EventLog, scheduler: SimulationScheduler) {
        self.log = log
        self.scheduler = scheduler
    }

    /// A client's event, now.
    func client(_ id: String, jobId: String, _ kind: ClientEvent.Kind) {
        let event = ClientEvent(time: self.scheduler.now, clientId: id, jobId: jobId, kind: kind)
        self.log.record(event)
        self.events.append(LoggedEvent(time: Self.written(event.time), event: .client(event)))
    }

    /// A server event, now.
    func server(jobId: String, _ kind: ReferenceServerEvent.Kind) {
        let event = ReferenceServerEvent(time: self.scheduler.now, jobId: jobId, kind: kind)
        self.log.record(event)
        self.events.append(LoggedEvent(time: Self.written(event.time), event: .server(event)))
    }

    /// A run event, now.
    func run(_ event: RunnerEvent) {
        self.log.record(event, time: self.scheduler.now)
        self.events.append(LoggedEvent(time: Self.written(self.scheduler.now), event: .run(event)))
    }

    /// A time as its line reads back: rounded to the microsecond the log writes, so the run's metrics and a re-check
    /// of its file see the same times.
    private static func written(_ time: Double) -> Double {
        (time * 1_000).rounded() / 1_000
    }
}
