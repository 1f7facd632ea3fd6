import SquallProxy
import SquallReferenceClient

extension SourcePortObserver {
    /// Reports `client`'s connections to `origins`, so the run's proxies know which client each connection is.
    init(origins: ConnectionOriginRegistry, client: String) {
        self.init(
            connecting: { origins.announce(client: client).serial },
            connected: { serial, port, toPort in origins.connected(serial: serial, port: port, toPort: toPort) },
            failed: { serial in origins.abandon(serial: serial) },
            closed: { port, toPort in origins.unregister(port: port, toPort: toPort, client: client) }
        )
    }
}
