import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer

/// The server's end of one simulated WebSocket: the reference server's ``ProgressStreamStateMachine``, fed by the
/// client's frames, the keep-alive clock and the job's subscription, its frames sent back over the connection.
final class SimulatedStream {
    private var machine: ProgressStreamStateMachine
    private let connection: SimulatedConnection
    private let server: SimulatedServer
    private let jobId: String
    private let log: SimulationLog
    private let scheduler: SimulationScheduler
    private var subscription: Int?
    /// Hands a frame that reached the client to it.
    private let toClient: (ProgressStreamStateMachine.Frame) -> Void

    init(
        connection: SimulatedConnection,
        server: SimulatedServer,
        jobId: String,
        log: SimulationLog,
        scheduler: SimulationScheduler,
        toClient: @escaping (ProgressStreamStateMachine.Frame) -> Void
    ) {
        self.machine = ProgressStreamStateMachine(configuration: server.configuration, now: scheduler.now)
        self.connection = connection
        self.server = server
        self.jobId = jobId
        self.log = log
        self.scheduler = scheduler
        self.toClient = toClient
        connection.serverLost = { [unowned self] ending in self.receive(.peerGone(reason: ending.serverReason)) }
        self.tick()
    }

    /// Feeds one event to the stream's machine and performs what it says.
    func receive(_ event: ProgressStreamStateMachine.Event) {
        for action in self.machine.handle(event) {
            switch action {
            case .send(let frame):
                self.connection.send(
                    .downstream,
                    size: frame.wireSize(jobId: self.jobId, writer: &self.server.frameWriter),
                    Self.traffic(of: frame)
                ) { [self] in
                    self.toClient(frame)
                }
            case .subscribe(let lastSeq):
                self.log.server(jobId: self.jobId, .streamOpened(lastSeq: lastSeq))
                self.subscription = self.server.subscribe(
                    jobId: self.jobId,
                    after: lastSeq,
                    SimulatedServer.Subscriber(
                        message: { [unowned self] in self.receive(.message($0)) },
                        end: { [unowned self] in self.receive(.serverEnded($0)) }
                    )
                )
            case .startCloseTimer:
                self.scheduler.after(self.server.configuration.closeTimeout.simulationMilliseconds) { [self] in
                    self.receive(.closeTimedOut)
                }
            case .finish(let reason):
                if let id = self.subscription { self.server.unsubscribe(jobId: self.jobId, id: id) }
                self.subscription = nil
                self.log.server(jobId: self.jobId, .streamClosed(reason: reason))
                // The server closes its socket: a client still reading sees the end, unless the line is silent.
                if self.connection.isOpen, self.connection.silencedBy == nil {
                    let lost = self.connection.clientLost
                    self.connection.close()
                    self.scheduler.after(0) { lost(.closed) }
                } else {
                    self.connection.close()
                }
            }
        }
    }

    /// How late each keep-alive tick runs after the one before it, in virtual ms. The real ticker sleeps its
    /// interval after handling the last tick, so it drifts behind the job's deadline-based publications and never
    /// runs before one due at the same moment; a microsecond keeps that order in virtual time.
    static let tickDrift = 0.001

    private func tick() {
        self.scheduler.after(self.machine.tickInterval.simulationMilliseconds + Self.tickDrift) { [self] in
            guard !self.machine.isFinished else { return }
            self.receive(.tick(now: self.scheduler.now))
            self.tick()
        }
    }

    private static func traffic(of frame: ProgressStreamStateMachine.Frame) -> SimulatedTraffic {
        switch frame {
        case .readyAck, .message: .frame(.text)
        case .ping: .frame(.ping)
        case .pong: .frame(.pong)
        case .close: .frame(.close)
        }
    }
}
