import SquallFaults
import SquallReferenceClient
import SquallReferenceServer
import SquallScenarios

/// Where the simulation writes: the run's ``EventLog``, stamped with virtual time (milliseconds since the
/// simulation began), in the order events happen, so one seed gives one byte-identical log.
struct SimulationLog {
    let log: EventLog
    let scheduler: SimulationScheduler

    /// A client's event, now.
    func client(_ id: String, jobId: String, _ kind: ClientEvent.Kind) {
        let event = ClientEvent(time: self.scheduler.now, clientId: id, jobId: jobId, kind: kind)
        self.log.record(time: event.time, line: event.jsonLine)
    }

    /// A server event, now.
    func server(jobId: String, _ kind: ReferenceServerEvent.Kind) {
        let event = ReferenceServerEvent(time: self.scheduler.now, jobId: jobId, kind: kind)
        self.log.record(time: event.time, line: event.jsonLine)
    }

    /// A run event, now.
    func run(_ name: RunEventName, _ fields: [(String, JSONValue)] = []) {
        self.log.recordRun(name, fields, time: self.scheduler.now)
    }
}
