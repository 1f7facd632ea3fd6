import NIOCore
import NIOEmbedded
import SquallFaults
import SquallProxy
import Testing

/// The registry answers a proxy's lookup for a connection accepted before its client reported the port: with the
/// client once it reports, with nobody once every connect announced before the accept has reported elsewhere.
@Suite struct ConnectionOriginRegistryTests {
    /// The lookup's answer so far: nil while it waits, .some(origin or nil) once answered.
    private func answer(_ future: EventLoopFuture<ConnectionOrigin?>, on loop: EmbeddedEventLoop) -> ConnectionOrigin??
    {
        var answer: ConnectionOrigin??
        future.assumeIsolated().whenSuccess { answer = .some($0) }
        loop.run()
        return answer
    }

    @Test func aReportedPortIsAnsweredAtOnce() {
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        let origin = origins.register(port: 40_001, toPort: 9_000, client: "web-1")
        #expect(self.answer(origins.origin(ofPort: 40_001, toPort: 9_000, on: loop), on: loop) == .some(origin))
        #expect(origin == ConnectionOrigin(client: "web-1", ordinal: 1))
    }

    @Test func withNoConnectOutstandingAnUnknownPortIsNobodys() {
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        #expect(self.answer(origins.origin(ofPort: 40_002, toPort: 9_000, on: loop), on: loop) == .some(nil))
    }

    @Test func aLookupWaitsForTheClientThatConnectsFromThePort() {
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        let announced = origins.announce(client: "web-1")
        let lookup = origins.origin(ofPort: 40_003, toPort: 9_000, on: loop)
        #expect(self.answer(lookup, on: loop) == nil, "waits while a connect is outstanding")
        origins.connected(serial: announced.serial, port: 40_003, toPort: 9_000)
        #expect(self.answer(lookup, on: loop) == .some(announced.origin))
    }

    @Test func aLookupEndsAsNobodysOnceEveryEarlierConnectReportedElsewhere() {
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        let first = origins.announce(client: "web-1")
        let second = origins.announce(client: "web-2")
        let lookup = origins.origin(ofPort: 40_004, toPort: 9_000, on: loop)
        let later = origins.announce(client: "web-3")
        origins.connected(serial: first.serial, port: 40_100, toPort: 9_000)
        #expect(self.answer(lookup, on: loop) == nil, "web-2 has not reported yet")
        origins.abandon(serial: second.serial)
        #expect(
            self.answer(lookup, on: loop) == .some(nil),
            "web-3 announced after the accept, so it is not waited for"
        )
        origins.abandon(serial: later.serial)
    }

    @Test func aLookupGivesUpAfterItsPatience() {
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        _ = origins.announce(client: "web-1")
        let lookup = origins.origin(ofPort: 40_005, toPort: 9_000, on: loop)
        loop.advanceTime(by: ConnectionOriginRegistry.lookupPatience - .milliseconds(1))
        #expect(self.answer(lookup, on: loop) == nil)
        loop.advanceTime(by: .milliseconds(1))
        #expect(self.answer(lookup, on: loop) == .some(nil))
    }

    @Test func onePortTowardTwoProxiesIsTwoConnections() {
        // The kernel may give two clients the same port toward two different proxies.
        let (origins, loop) = (ConnectionOriginRegistry(), EmbeddedEventLoop())
        let first = origins.register(port: 40_008, toPort: 9_001, client: "web-1")
        let second = origins.register(port: 40_008, toPort: 9_002, client: "api-1")
        #expect(self.answer(origins.origin(ofPort: 40_008, toPort: 9_001, on: loop), on: loop) == .some(first))
        #expect(self.answer(origins.origin(ofPort: 40_008, toPort: 9_002, on: loop), on: loop) == .some(second))
        origins.unregister(port: 40_008, toPort: 9_001, client: "web-1")
        #expect(origins.origin(ofPort: 40_008, toPort: 9_002) == second, "the other connection is still known")
    }

    @Test func ordinalsCountAClientsConnectsInTheOrderItAnnouncedThem() {
        let origins = ConnectionOriginRegistry()
        let first = origins.announce(client: "web-1")
        let second = origins.announce(client: "web-1")
        origins.connected(serial: second.serial, port: 40_006, toPort: 9_000)
        origins.connected(serial: first.serial, port: 40_007, toPort: 9_000)
        #expect(origins.origin(ofPort: 40_007, toPort: 9_000)?.ordinal == 1)
        #expect(origins.origin(ofPort: 40_006, toPort: 9_000)?.ordinal == 2)
        origins.unregister(port: 40_007, toPort: 9_000, client: "web-2")
        #expect(origins.origin(ofPort: 40_007, toPort: 9_000) != nil, "another client's close leaves the entry")
        origins.unregister(port: 40_007, toPort: 9_000, client: "web-1")
        #expect(origins.origin(ofPort: 40_007, toPort: 9_000) == nil)
    }
}
