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
    /// Every event's record, in time order.
    private(set) var records: [EventRecord] = []

    init(log: EventLog, scheduler: SimulationScheduler) {
        self.log = log
        self.scheduler = scheduler
    }

    /// A client's event, now.
    func client(_ id: String, jobId: String, _ kind: ClientEvent.Kind) {
        self.record(ClientEvent(time: self.scheduler.now, clientId: id, jobId: jobId, kind: kind).fields)
    }

    /// A server event, now.
    func server(jobId: String, _ kind: ReferenceServerEvent.Kind) {
        self.record(ReferenceServerEvent(time: self.scheduler.now, jobId: jobId, kind: kind).fields)
    }

    /// A run event, now.
    func run(_ event: RunnerEvent) {
        self.log.record(event, time: self.scheduler.now)
        self.records.append(EventRecord(run: event.name, event.fields, time: self.scheduler.now))
    }

    private func record(_ fields: [(String, EventField)]) {
        self.log.record(fields: fields)
        self.records.append(EventRecord(fields: fields))
    }
}
