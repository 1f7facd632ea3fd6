import SquallFaults
import SquallReferenceProtocol
import SquallReferenceServer

/// The server's end of one simulated event stream: the reference server's ``EventStreamStateMachine``, fed by the
/// keep-alive clock, the job's subscription and the client's departure, its answer (head, blocks, end) sent back
/// over the connection as the real server writes it.
final class SimulatedEventStream {
    /// What reaches the client.
    enum Delivery {
        /// The answer's head (`200 text/event-stream`): the stream is open.
        case head
        /// A block of the stream.
        case block(EventStreamStateMachine.Block)
        /// The answer's end (its last chunk); the server closes the connection after it.
        case end
    }

    /// The bytes of the answer's head and of its last chunk, as the real server writes them (NIO's encoder:
    /// `HTTP/1.1 200 OK`, the three headers and `transfer-encoding: chunked`; `0`, CRLF, CRLF).
    static let headSize = 120
    static let endSize = 5

    /// The bytes of a block framed as the chunk of its own the proxy forwards it as: its size in hex, CRLF, the
    /// block, CRLF.
    static func chunkSize(of block: EventStreamStateMachine.Block) -> Int {
        let count = block.bytes.count
        return String(count, radix: 16).utf8.count + 4 + count
    }

    private var machine: EventStreamStateMachine
    private let connection: SimulatedConnection
    private let server: SimulatedServer
    private let jobId: String
    private let lastEventId: String?
    private let log: SimulationLog
    private let scheduler: SimulationScheduler
    private var subscription: Int?
    private let toClient: (Delivery) -> Void

    init(
        connection: SimulatedConnection,
        server: SimulatedServer,
        jobId: String,
        lastEventId: String?,
        log: SimulationLog,
        scheduler: SimulationScheduler,
        toClient: @escaping (Delivery) -> Void
    ) {
        self.machine = EventStreamStateMachine(
            configuration: server.configuration,
            lastEventId: lastEventId,
            now: scheduler.now
        )
        self.connection = connection
        self.server = server
        self.jobId = jobId
        self.lastEventId = lastEventId
        self.log = log
        self.scheduler = scheduler
        self.toClient = toClient
        connection.serverLost = { [unowned self] ending in self.receive(.peerGone(reason: ending.serverReason)) }
        self.deliver(.head, size: Self.headSize)
        self.perform(self.machine.start())
        self.tick()
    }

    /// Feeds one event to the stream's machine and performs what it says.
    func receive(_ event: EventStreamStateMachine.Event) {
        self.perform(self.machine.handle(event))
    }

    private func perform(_ actions: [EventStreamStateMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let block):
                self.deliver(.block(block), size: Self.chunkSize(of: block), as: .eventBlock(isEvent: block.isEvent))
            case .subscribe(let lastSeq):
                self.log.server(jobId: self.jobId, .eventStreamOpened(lastSeq: lastSeq, lastEventId: self.lastEventId))
                self.subscription = self.server.subscribe(
                    jobId: self.jobId,
                    after: lastSeq,
                    SimulatedServer.Subscriber(
                        message: { [unowned self] in self.receive(.message($0)) },
                        end: { [unowned self] in self.receive(.serverEnded($0)) }
                    )
                )
                if self.subscription == nil { self.receive(.jobAlreadyEnded) }
            case .finish(let reason):
                if let id = self.subscription { self.server.unsubscribe(jobId: self.jobId, id: id) }
                self.subscription = nil
                self.log.server(jobId: self.jobId, .eventStreamClosed(reason: reason))
                guard self.connection.isOpen else { return }
                // The answer's last chunk, then the server closes its socket.
                self.deliver(.end, size: Self.endSize)
                self.connection.send(.downstream, size: 0, .response) { [connection] in
                    let lost = connection.clientLost
                    connection.close()
                    lost(.closed)
                }
            }
        }
    }

    private func deliver(_ delivery: Delivery, size: Int, as traffic: SimulatedTraffic = .response) {
        self.connection.send(.downstream, size: size, traffic) { [self] in self.toClient(delivery) }
    }

    private func tick() {
        self.scheduler.after(self.machine.tickInterval.simulationMilliseconds + SimulatedStream.tickDrift) { [self] in
            guard !self.machine.isFinished else { return }
            self.receive(.tick(now: self.scheduler.now))
            self.tick()
        }
    }
}
