import NIOCore
import SquallFaults
import Testing

@testable import SquallProxy

/// Every lifecycle path of a proxied connection, driven through the state machine alone (no sockets).
@Suite struct ProxyLinkStateMachineTests {
    private func data(_ text: String) -> StreamItem {
        .data(ByteBuffer(string: text), receivedAt: NIODeadline.uptimeNanoseconds(0))
    }

    /// A machine whose client is active and whose server socket is open.
    private func openLink() -> ProxyLinkStateMachine {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        _ = machine.connectDue()
        _ = machine.serverActivated()
        return machine
    }

    @Test func aConnectHoldsItemsUntilTheServerSocketOpensThenDeliversThemInOrder() {
        var machine = ProxyLinkStateMachine()
        #expect(machine.clientActivated { .connect(after: .milliseconds(300)) } == .connect(after: .milliseconds(300)))
        #expect(machine.serverIsComing)
        #expect(machine.upstreamItemReady(self.data("a")) == .held)
        #expect(machine.upstreamItemReady(self.data("bc")) == .held)
        #expect(machine.pendingBytes == 3)
        #expect(machine.connectDue() == .openServerSocket)
        #expect(machine.serverActivated() == .deliverPending([self.data("a"), self.data("bc")]))
        #expect(machine.upstreamItemReady(self.data("d")) == .write)
        #expect(machine.pendingBytes == 0)
        #expect(!machine.serverIsComing)
    }

    @Test func aByteChainDeliversToTheServerOnlyOnceItIsOpenAndToNeitherOnceClosing() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        #expect(machine.mayDeliver(to: .client))
        #expect(!machine.mayDeliver(to: .server), "items due at the server wait in the machine until it opens")
        _ = machine.connectDue()
        #expect(!machine.mayDeliver(to: .server))
        _ = machine.serverActivated()
        #expect(machine.mayDeliver(to: .client) && machine.mayDeliver(to: .server))
        _ = machine.close(mode: .fin)
        #expect(!machine.mayDeliver(to: .client) && !machine.mayDeliver(to: .server))
    }

    @Test func refuseResetsTheClientAndFinishesWhenItCloses() {
        var machine = ProxyLinkStateMachine()
        #expect(machine.clientActivated { .refuse } == .close(.closeSockets(.reset, client: true, server: false)))
        #expect(machine.bytesRead(from: .client) == .drop)
        #expect(machine.close(mode: .fin) == .none)
        #expect(machine.channelInactive(side: .client) == .finish)
        #expect(machine.link == nil)
    }

    @Test func aBlackHoledConnectDropsEverythingAndClosesAGonePeersSocket() {
        var machine = ProxyLinkStateMachine()
        #expect(machine.clientActivated { .blackhole } == .silenceAndReadClient)
        #expect(machine.isSilenced)
        #expect(machine.bytesRead(from: .client) == .drop)
        #expect(machine.upstreamItemReady(self.data("x")) == .drop)
        #expect(machine.inputClosed(side: .client) == .closeSocket(.client))
        #expect(machine.channelInactive(side: .client) == .finish)
    }

    @Test func aConnectionAcceptedDuringABlackHolingBlackoutNeverAsksTheFaults() {
        var machine = ProxyLinkStateMachine()
        #expect(machine.silence(releasedBy: nil) == .silence)
        var asked = false
        #expect(
            machine.clientActivated {
                asked = true
                return .connect(after: .zero)
            } == .readClient
        )
        #expect(!asked)
        #expect(machine.isSilenced)
        #expect(machine.connectDue() == .none)
    }

    @Test func aDeferredConnectOpensTheServerSocketForTheFirstItem() {
        var machine = ProxyLinkStateMachine()
        #expect(machine.clientActivated { .connectOnFirstItem } == .readClient)
        #expect(machine.serverIsComing)
        #expect(machine.upstreamItemReady(self.data("GET")) == .heldOpenServerSocket)
        #expect(machine.upstreamItemReady(self.data("more")) == .held)
        #expect(machine.serverActivated() == .deliverPending([self.data("GET"), self.data("more")]))
    }

    @Test func aDeferredConnectWhoseClientLeavesFirstFinishesWithoutConnecting() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connectOnFirstItem }
        #expect(machine.channelInactive(side: .client) == .finish)
    }

    @Test func halfClosesPassEachFinOnAndTheSecondClosesTheLink() {
        var machine = self.openLink()
        #expect(machine.inputClosed(side: .client) == .passEnd(.upstream))
        #expect(machine.upstreamItemReady(.end(.finished)) == .write)
        #expect(machine.endReady(.finished, direction: .upstream) == .halfClose(.server))
        #expect(machine.bytesRead(from: .client) == .drop)
        #expect(machine.bytesRead(from: .server) == .forward)
        #expect(machine.inputClosed(side: .server) == .passEnd(.downstream))
        #expect(
            machine.endReady(.finished, direction: .downstream)
                == .close(.closeSockets(.fin, client: true, server: true))
        )
        #expect(machine.channelInactive(side: .client) == .none)
        #expect(machine.channelInactive(side: .server) == .finish)
    }

    @Test func aClientResetIsPassedToTheServerAsAReset() {
        var machine = self.openLink()
        machine.errorCaught(side: .client, isReset: true)
        #expect(
            machine.channelInactive(side: .client)
                == .cancelAndPassEnd(cancel: .downstream, pass: .upstream, end: .reset)
        )
        #expect(
            machine.endReady(.reset, direction: .upstream) == .close(.closeSockets(.reset, client: false, server: true))
        )
        #expect(machine.channelInactive(side: .server) == .finish)
    }

    @Test func aServerCloseIsPassedToTheClientAsAClose() {
        var machine = self.openLink()
        machine.errorCaught(side: .server, isReset: false)
        #expect(
            machine.channelInactive(side: .server)
                == .cancelAndPassEnd(cancel: .upstream, pass: .downstream, end: .closed)
        )
        #expect(machine.bytesRead(from: .client) == .drop)
        #expect(machine.upstreamItemReady(self.data("late")) == .drop)
        #expect(
            machine.endReady(.closed, direction: .downstream)
                == .close(.closeSockets(.fin, client: true, server: false))
        )
        #expect(machine.channelInactive(side: .client) == .finish)
    }

    @Test func aClientThatLeavesDuringTheConnectIsNotCountedAsAConnectFailure() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        #expect(machine.connectDue() == .openServerSocket)
        machine.errorCaught(side: .client, isReset: true)
        #expect(
            machine.channelInactive(side: .client)
                == .cancelAndPassEnd(cancel: .downstream, pass: .upstream, end: .reset)
        )
        #expect(machine.upstreamItemReady(.end(.reset)) == .held)
        #expect(machine.serverConnectFailed() == .finish)
    }

    @Test func aClientThatLeavesDuringTheConnectResetsTheServerOnceItOpens() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        _ = machine.connectDue()
        machine.errorCaught(side: .client, isReset: true)
        _ = machine.channelInactive(side: .client)
        _ = machine.upstreamItemReady(.end(.reset))
        #expect(machine.serverActivated() == .deliverPending([.end(.reset)]))
        #expect(machine.upstreamItemReady(.end(.reset)) == .write)
        #expect(
            machine.endReady(.reset, direction: .upstream) == .close(.closeSockets(.reset, client: false, server: true))
        )
        #expect(machine.channelInactive(side: .server) == .finish)
    }

    @Test func aClientThatLeavesBeforeADelayedConnectNeverConnects() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .seconds(1)) }
        _ = machine.channelInactive(side: .client)
        #expect(machine.connectDue() == .finish)
    }

    @Test func anUnreachableServerIsCountedAndClosesTheClient() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        _ = machine.connectDue()
        #expect(
            machine.serverConnectFailed() == .countFailureAndClose(.closeSockets(.fin, client: true, server: false))
        )
        #expect(machine.channelInactive(side: .client) == .finish)
    }

    @Test func closingDuringTheConnectClosesTheServerSocketWhenItOpens() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        _ = machine.connectDue()
        #expect(machine.close(mode: .reset) == .closeSockets(.reset, client: true, server: false))
        #expect(machine.channelInactive(side: .client) == .none)
        #expect(machine.serverActivated() == .closeServer(.reset))
        #expect(machine.channelInactive(side: .server) == .finish)
    }

    @Test func closingDuringAConnectThatFailsFinishesWithoutCountingIt() {
        var machine = ProxyLinkStateMachine()
        _ = machine.clientActivated { .connect(after: .zero) }
        _ = machine.connectDue()
        _ = machine.close(mode: .fin)
        _ = machine.channelInactive(side: .client)
        #expect(machine.serverConnectFailed() == .finish)
        #expect(machine.link == nil)
    }

    @Test func aLinkSilencedByAFaultIsReleasedWhenTheFaultIsRemoved() {
        var machine = self.openLink()
        #expect(machine.silence(releasedBy: "hang") == .silence)
        #expect(machine.silence(releasedBy: "other") == .none)
        #expect(!machine.takesFaults)
        #expect(machine.bytesRead(from: .server) == .drop)
        #expect(machine.faultsChanged { _ in true } == .none)
        #expect(
            machine.faultsChanged { $0 != "hang" }
                == .release(.closeSockets(.fin, client: true, server: true), fault: "hang")
        )
        #expect(machine.isClosing)
    }

    @Test func aLinkSilencedByAHandoffStaysUntilThePeersClose() {
        var machine = self.openLink()
        _ = machine.silence(releasedBy: nil)
        #expect(machine.faultsChanged { _ in false } == .none)
        #expect(machine.inputClosed(side: .server) == .closeSocket(.server))
        #expect(machine.channelInactive(side: .server) == .none)
        let readAllowed = machine.readRequested(side: .client, flowAllows: false)
        #expect(readAllowed, "a silenced link is read (to drop) whatever the flow")
        #expect(machine.channelInactive(side: .client) == .finish)
    }

    @Test func aReadRefusedForBackpressureIsResumedOnceTheFlowAllows() {
        var machine = self.openLink()
        let readAllowed = machine.readRequested(side: .client, flowAllows: false)
        #expect(!readAllowed)
        #expect(machine.isReadHeld(side: .client))
        #expect(machine.readsToResume(client: false, server: true).isEmpty)
        #expect(machine.readsToResume(client: true, server: false) == [.client])
        #expect(!machine.isReadHeld(side: .client))
        #expect(machine.readsToResume(client: true, server: true).isEmpty)
    }

    @Test func eventsAfterTheLinkFinishedDoNothing() {
        var machine = self.openLink()
        _ = machine.close(mode: .fin)
        _ = machine.channelInactive(side: .client)
        #expect(machine.channelInactive(side: .server) == .finish)
        #expect(machine.close(mode: .reset) == .none)
        #expect(machine.channelInactive(side: .server) == .none)
        #expect(machine.serverActivated() == .none)
        #expect(machine.connectDue() == .none)
        #expect(machine.silence(releasedBy: nil) == .none)
        #expect(machine.faultsChanged { _ in false } == .none)
        #expect(machine.bytesRead(from: .client) == .drop)
    }
}
