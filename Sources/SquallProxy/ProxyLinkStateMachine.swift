import NIOCore
import SquallFaults

/// The lifecycle of one proxied connection — connect phase, open link, half-closes, resets, silencing and closing —
/// as a value that returns what to do.
///
/// ``ProxyConnection`` owns the sockets, chains and timers and performs the actions; this machine owns every fact
/// the legal next steps depend on, so each path can be tested without sockets. The shape follows swift-nio's
/// `NIOTypedHTTPServerUpgraderStateMachine`: a private `State`, one `mutating` function per event, exhaustive
/// switches.
struct ProxyLinkStateMachine {
    /// Which socket of the connection.
    enum Side: Sendable, Hashable {
        /// The socket accepted from the client.
        case client
        /// The socket the proxy opened to the server.
        case server
    }

    /// How a connection is closed.
    enum CloseMode: String, Sendable {
        /// A normal close: pending bytes are flushed, then FIN.
        case fin
        /// An abortive close: RST (SO_LINGER 0), pending bytes discarded.
        case reset
    }

    /// How the connect phase goes, decided from the connect-phase faults acting on the connection.
    enum ConnectPlan: Equatable, Sendable {
        /// Open the server socket after `delay` (zero: now).
        case connect(after: Duration)
        /// Wait for the client's first bytes to leave the upstream chain, so a blocked upgrade never reaches the
        /// server.
        case connectOnFirstItem
        /// Reset the client at once (`refuse`).
        case refuse
        /// Accept and then never answer (`connect_blackhole`).
        case blackhole
    }

    /// What is known about one socket.
    struct Endpoint: Equatable {
        /// The socket is open (active and not yet inactive).
        var isOpen: Bool
        /// A read was withheld for backpressure and must be asked for again.
        var readHeld = false
        /// The socket reported ECONNRESET or EPIPE: its close was a reset.
        var resetSeen = false
    }

    /// The facts of a link while it exists.
    struct Link: Equatable {
        /// The client socket.
        var client = Endpoint(isOpen: true)
        /// The server socket.
        var server = Endpoint(isOpen: false)
        /// A server connect is scheduled or in flight.
        var connectInFlight = false
        /// Nothing more flows client → server (a FIN was passed on, or the server is gone).
        var upstreamEnded = false
        /// Nothing more flows server → client.
        var downstreamEnded = false

        func endpoint(_ side: Side) -> Endpoint {
            switch side {
            case .client: return self.client
            case .server: return self.server
            }
        }

        mutating func update(_ side: Side, _ change: (inout Endpoint) -> Void) {
            switch side {
            case .client: change(&self.client)
            case .server: change(&self.server)
            }
        }

        /// No socket is open and none is being opened: the connection is over.
        var isGone: Bool {
            !self.client.isOpen && !self.server.isOpen && !self.connectInFlight
        }
    }

    private enum State {
        /// Accepted; the client socket is not active yet. `silenced` when accepted during a black-holing blackout.
        case accepted(Link, silenced: Bool)
        /// The connect waits for the first item leaving the upstream chain.
        case awaitingFirstItem(Link)
        /// The server connect is scheduled or in flight; items for the server wait in `pending`.
        case connecting(Link, pending: [StreamItem])
        /// Both sockets have been open; items flow.
        case open(Link)
        /// Nothing is delivered either way and neither peer hears of the other, until `releasedBy` is removed
        /// (nil: until the peers close).
        case silenced(Link, releasedBy: String?)
        /// The sockets are being closed.
        case closing(Link, CloseMode)
        /// Every socket is closed; the proxy has been told.
        case finished
        /// Transient, while a payload is changed in place.
        case modifying
    }

    private var state: State = .accepted(Link(), silenced: false)

    /// Creates the machine for a connection just accepted.
    init() {}

    // MARK: Inspection

    /// The link's facts, or nil once finished.
    var link: Link? {
        switch self.state {
        case .accepted(let link, _), .awaitingFirstItem(let link), .connecting(let link, _), .open(let link),
            .silenced(let link, _), .closing(let link, _):
            return link
        case .finished:
            return nil
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// Whether nothing is delivered (black hole, hang, half-open handoff).
    var isSilenced: Bool {
        switch self.state {
        case .silenced: return true
        case .accepted(_, let silenced): return silenced
        case .awaitingFirstItem, .connecting, .open, .closing, .finished: return false
        case .modifying: preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// Whether the link is closing or closed.
    var isClosing: Bool {
        switch self.state {
        case .closing, .finished: return true
        case .accepted, .awaitingFirstItem, .connecting, .open, .silenced: return false
        case .modifying: preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// Whether faults act on the link: it is neither silenced nor closing.
    var takesFaults: Bool {
        switch self.state {
        case .accepted(_, let silenced): return !silenced
        case .awaitingFirstItem, .connecting, .open: return true
        case .silenced, .closing, .finished: return false
        case .modifying: preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// Whether the server socket is not open yet but will be (connect awaited or in flight): the client is still
    /// read so its first bytes are ready when the server socket opens.
    var serverIsComing: Bool {
        switch self.state {
        case .awaitingFirstItem, .connecting: return true
        case .accepted, .open, .silenced, .closing, .finished: return false
        case .modifying: preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// The bytes waiting for the server socket to open.
    var pendingBytes: Int {
        if case .connecting(_, let pending) = self.state {
            return pending.reduce(0) { $0 + $1.byteCount }
        }
        return 0
    }

    // MARK: Connect phase

    /// What to do when the client socket becomes active.
    enum ClientActiveAction: Equatable {
        /// Nothing: the connect phase ran already, or the link is closing.
        case none
        /// Ask the client socket for bytes and wait (black hole, or a connect on the first item).
        case readClient
        /// Cancel the chains and read the client, dropping everything (a black-holed connect).
        case silenceAndReadClient
        /// Open the server socket after the delay.
        case connect(after: Duration)
        /// Close the link.
        case close(CloseAction)
    }

    /// The client socket became active; `plan` asks the connect-phase faults what to do (only asked when the
    /// connect phase starts).
    mutating func clientActivated(plan: () -> ConnectPlan) -> ClientActiveAction {
        switch self.state {
        case .accepted(let link, silenced: true):
            self.state = .silenced(link, releasedBy: nil)
            return .readClient
        case .accepted(var link, silenced: false):
            switch plan() {
            case .refuse:
                self.state = .open(link)
                return .close(self.close(mode: .reset))
            case .blackhole:
                self.state = .silenced(link, releasedBy: nil)
                return .silenceAndReadClient
            case .connectOnFirstItem:
                self.state = .awaitingFirstItem(link)
                return .readClient
            case .connect(let delay):
                link.connectInFlight = true
                self.state = .connecting(link, pending: [])
                return .connect(after: delay)
            }
        case .awaitingFirstItem, .connecting, .open, .silenced, .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do when the connect delay has passed.
    enum ConnectDueAction: Equatable {
        /// Open the server socket now.
        case openServerSocket
        /// Nothing: the link closed or went silent meanwhile.
        case none
        /// The client is gone too: tell the proxy the connection is over.
        case finish
    }

    /// The connect delay (possibly zero) has passed.
    mutating func connectDue() -> ConnectDueAction {
        switch self.state {
        case .connecting(let link, _) where link.client.isOpen:
            return .openServerSocket
        case .connecting(let link, _), .silenced(let link, _), .closing(let link, _):
            // The client left, or the link went silent (it never opens the server socket it had not opened yet) or
            // is closing: no connect.
            return self.abandonConnect(link) ? .finish : .none
        case .accepted, .awaitingFirstItem, .open, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do when the server socket became active.
    enum ServerActiveAction: Equatable {
        /// Deliver the items that waited for the server, in order, then resume reads.
        case deliverPending([StreamItem])
        /// Close the server socket at once: the link closed while it was connecting.
        case closeServer(CloseMode)
        /// Keep it open and silent.
        case none
    }

    /// The server socket became active.
    mutating func serverActivated() -> ServerActiveAction {
        switch self.state {
        case .connecting(var link, let pending):
            link.connectInFlight = false
            link.server.isOpen = true
            self.state = .open(link)
            return .deliverPending(pending)
        case .closing(var link, let mode):
            link.connectInFlight = false
            link.server.isOpen = true
            self.state = .closing(link, mode)
            return .closeServer(mode)
        case .silenced(var link, let fault):
            link.connectInFlight = false
            link.server.isOpen = true
            self.state = .silenced(link, releasedBy: fault)
            return .none
        case .accepted, .awaitingFirstItem, .open, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do when the server connect failed.
    enum ConnectFailedAction: Equatable {
        /// The server could not be reached while the client waited: count a connect failure and close the link.
        case countFailureAndClose(CloseAction)
        /// The link was closing or silent anyway; nothing to count.
        case none
        /// The client is gone too: tell the proxy the connection is over.
        case finish
    }

    /// The server connect failed (refused, timed out).
    mutating func serverConnectFailed() -> ConnectFailedAction {
        switch self.state {
        case .connecting(var link, _):
            link.connectInFlight = false
            self.state = .open(link)
            if !link.client.isOpen {
                // The client left before the server answered: not the server's failure.
                return self.finishIfGone(link) ? .finish : .none
            }
            return .countFailureAndClose(self.close(mode: .fin))
        case .silenced(let link, _), .closing(let link, _):
            return self.abandonConnect(link) ? .finish : .none
        case .accepted, .awaitingFirstItem, .open, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    // MARK: Items

    /// What to do with bytes read from a socket.
    enum ReadAction: Equatable {
        /// Feed them into the chain of the direction they travel.
        case forward
        /// Drop them (silenced, closing, or that direction has ended).
        case drop
    }

    /// Bytes arrived from `side`.
    func bytesRead(from side: Side) -> ReadAction {
        switch self.state {
        case .accepted(_, let silenced):
            return silenced ? .drop : .forward
        case .awaitingFirstItem(let link), .connecting(let link, _), .open(let link):
            let ended = side == .client ? link.upstreamEnded : link.downstreamEnded
            return ended ? .drop : .forward
        case .silenced, .closing, .finished:
            return .drop
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do with an item leaving the upstream message chain.
    enum UpstreamItemAction: Equatable {
        /// Write it to the server socket.
        case write
        /// It waits for the server socket (kept by the machine).
        case held
        /// It waits, and it is the first: open the server socket now.
        case heldOpenServerSocket
        /// Drop it: the server socket is gone or the link is silent or closing.
        case drop
    }

    /// An item left the upstream message chain and is due at the server's pipeline (and the byte chain after it).
    mutating func upstreamItemReady(_ item: StreamItem) -> UpstreamItemAction {
        switch self.state {
        case .open(let link):
            return link.server.isOpen ? .write : .drop
        case .connecting(let link, var pending):
            self.state = .modifying
            pending.append(item)
            self.state = .connecting(link, pending: pending)
            return .held
        case .awaitingFirstItem(var link):
            link.connectInFlight = true
            self.state = .connecting(link, pending: [item])
            return .heldOpenServerSocket
        case .accepted, .silenced, .closing, .finished:
            return .drop
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// Whether an item leaving a byte chain can be written to `side`'s socket. The server's is written to only once
    /// it is open (items due at it before then wait in the machine, see ``upstreamItemReady(_:)``); the client's
    /// from its acceptance until the link closes or goes silent.
    func mayDeliver(to side: Side) -> Bool {
        switch self.state {
        case .open(let link):
            return link.endpoint(side).isOpen
        case .connecting(let link, _), .awaitingFirstItem(let link):
            return side == .client && link.client.isOpen
        case .accepted, .silenced, .closing, .finished:
            return false
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do when the end of a direction's stream reached its destination.
    enum EndAction: Equatable {
        /// Flush and half-close the destination socket (pass the FIN on).
        case halfClose(Side)
        /// Close the link.
        case close(CloseAction)
        /// Nothing: the destination is gone or the link is closing.
        case none
    }

    /// The end of the stream travelling in `direction` left its chain.
    mutating func endReady(_ end: StreamItem.End, direction: FaultDirection) -> EndAction {
        switch self.state {
        case .open(var link):
            let destination: Side = direction == .upstream ? .server : .client
            guard link.endpoint(destination).isOpen else { return .none }
            switch end {
            case .finished:
                if direction == .upstream { link.upstreamEnded = true } else { link.downstreamEnded = true }
                self.state = .open(link)
                if link.upstreamEnded && link.downstreamEnded {
                    return .close(self.close(mode: .fin))
                }
                return .halfClose(destination)
            case .closed:
                return .close(self.close(mode: .fin))
            case .reset:
                return .close(self.close(mode: .reset))
            }
        case .accepted, .awaitingFirstItem, .connecting, .silenced, .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    // MARK: Socket events

    /// What to do when a peer half-closed its socket (FIN read).
    enum InputClosedAction: Equatable {
        /// Pass a FIN through the chain of the direction that peer sends.
        case passEnd(FaultDirection)
        /// Close that socket: the link is silent, so the other peer is not told, but a gone peer is not kept in
        /// CLOSE-WAIT.
        case closeSocket(Side)
        /// Nothing.
        case none
    }

    /// The peer on `side` half-closed (FIN).
    func inputClosed(side: Side) -> InputClosedAction {
        switch self.state {
        case .accepted(_, silenced: true), .silenced:
            return .closeSocket(side)
        case .accepted(_, silenced: false), .awaitingFirstItem, .connecting, .open:
            return .passEnd(side == .client ? .upstream : .downstream)
        case .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// A socket reported an error; `isReset` when it was ECONNRESET or EPIPE.
    mutating func errorCaught(side: Side, isReset: Bool) {
        guard isReset else { return }
        self.modifyLink { $0.update(side) { $0.resetSeen = true } }
    }

    /// What to do when a socket became inactive.
    enum InactiveAction: Equatable {
        /// Stop the chain toward the gone socket and pass its end (closed or reset) through the other chain.
        case cancelAndPassEnd(cancel: FaultDirection, pass: FaultDirection, end: StreamItem.End)
        /// Stop the chain toward the gone socket; the other end waits for nothing.
        case cancel(FaultDirection)
        /// Every socket is closed: tell the proxy the connection is over.
        case finish
        /// Nothing.
        case none
    }

    /// The socket on `side` closed.
    mutating func channelInactive(side: Side) -> InactiveAction {
        switch self.state {
        case .accepted(var link, _), .awaitingFirstItem(var link), .connecting(var link, _), .open(var link):
            link.update(side) { $0.isOpen = false }
            let toward: FaultDirection = side == .client ? .downstream : .upstream
            let from: FaultDirection = side == .client ? .upstream : .downstream
            if side == .client { link.downstreamEnded = true } else { link.upstreamEnded = true }
            self.replaceLink(link)
            if self.finishIfGone(link) { return .finish }
            let end: StreamItem.End = link.endpoint(side).resetSeen ? .reset : .closed
            let other: Side = side == .client ? .server : .client
            if link.endpoint(other).isOpen || (other == .server && link.connectInFlight) {
                return .cancelAndPassEnd(cancel: toward, pass: from, end: end)
            }
            return .cancel(toward)
        case .silenced(var link, _), .closing(var link, _):
            link.update(side) { $0.isOpen = false }
            self.replaceLink(link)
            return self.finishIfGone(link) ? .finish : .none
        case .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    // MARK: Backpressure

    /// Whether the handler of `side` may ask its socket for more bytes; `flowAllows` is whether the destination
    /// can take more (writable, chain below its limit). A refused read is remembered and resumed by
    /// ``readsToResume(client:server:)``.
    mutating func readRequested(side: Side, flowAllows: Bool) -> Bool {
        if self.isSilenced { return true }
        if !flowAllows {
            self.modifyLink { $0.update(side) { $0.readHeld = true } }
        }
        return flowAllows
    }

    /// The sides whose withheld read may go ahead now, given whether each side's destination can take more; they
    /// are marked as reading again.
    mutating func readsToResume(client: Bool, server: Bool) -> [Side] {
        guard let link = self.link else { return [] }
        var resumed: [Side] = []
        for side in [Side.client, .server] where link.endpoint(side).readHeld && link.endpoint(side).isOpen {
            if self.isSilenced || (side == .client ? client : server) {
                resumed.append(side)
            }
        }
        if !resumed.isEmpty {
            self.modifyLink { link in
                for side in resumed { link.update(side) { $0.readHeld = false } }
            }
        }
        return resumed
    }

    /// Whether a read from `side` is being withheld.
    func isReadHeld(side: Side) -> Bool {
        self.link?.endpoint(side).readHeld ?? false
    }

    // MARK: Silencing and closing

    /// What to do when the link is silenced.
    enum SilenceAction: Equatable {
        /// Cancel both chains and their timers, forget pending items, and keep reading both sockets (to drop).
        case silence
        /// Nothing: already silent or closing.
        case none
    }

    /// Makes the link half-open for good: nothing more is delivered and neither peer hears of the other.
    ///
    /// - Parameter fault: the fault whose removal releases the link; nil for a handoff (until the peers close).
    mutating func silence(releasedBy fault: String?) -> SilenceAction {
        switch self.state {
        case .accepted(let link, _):
            self.state = .accepted(link, silenced: true)
            return .silence
        case .awaitingFirstItem(let link), .connecting(let link, _), .open(let link):
            self.state = .silenced(link, releasedBy: fault)
            return .silence
        case .silenced, .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do when the proxy's fault list changed.
    enum FaultsChangedAction: Equatable {
        /// Rebuild the chains with the new list.
        case apply
        /// The fault that silenced the link is gone: close it.
        case release(CloseAction, fault: String)
        /// Nothing: silent for another reason, or closing.
        case none
    }

    /// The proxy's fault list changed; `isPresent` tells whether a fault of that name is still in it.
    mutating func faultsChanged(isPresent: (String) -> Bool) -> FaultsChangedAction {
        switch self.state {
        case .silenced(_, .some(let fault)) where !isPresent(fault):
            return .release(self.close(mode: .fin), fault: fault)
        case .accepted(_, silenced: false), .awaitingFirstItem, .connecting, .open:
            return .apply
        case .accepted(_, silenced: true), .silenced, .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    /// What to do to close the link.
    enum CloseAction: Equatable {
        /// Cancel chains and timers, then close the sockets marked open with the mode; wait for them (and a connect
        /// in flight) to end.
        case closeSockets(CloseMode, client: Bool, server: Bool)
        /// Cancel chains and timers; nothing is open any more: tell the proxy the connection is over.
        case finish
        /// Nothing: already closing.
        case none
    }

    /// Closes the link.
    mutating func close(mode: CloseMode) -> CloseAction {
        switch self.state {
        case .accepted(let link, _), .awaitingFirstItem(let link), .connecting(let link, _), .open(let link),
            .silenced(let link, _):
            self.state = .closing(link, mode)
            if self.finishIfGone(link) { return .finish }
            return .closeSockets(mode, client: link.client.isOpen, server: link.server.isOpen)
        case .closing, .finished:
            return .none
        case .modifying:
            preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    // MARK: Helpers

    /// The connect attempt ended without a server socket: forget it, and finish when nothing else is open. Returns
    /// whether the link finished.
    private mutating func abandonConnect(_ link: Link) -> Bool {
        var link = link
        link.connectInFlight = false
        self.replaceLink(link)
        return self.finishIfGone(link)
    }

    /// Moves to `finished` when nothing is open or being opened; returns whether it did.
    private mutating func finishIfGone(_ link: Link) -> Bool {
        guard link.isGone else { return false }
        self.state = .finished
        return true
    }

    private mutating func replaceLink(_ link: Link) {
        switch self.state {
        case .accepted(_, let silenced): self.state = .accepted(link, silenced: silenced)
        case .awaitingFirstItem: self.state = .awaitingFirstItem(link)
        case .connecting(_, let pending): self.state = .connecting(link, pending: pending)
        case .open: self.state = .open(link)
        case .silenced(_, let fault): self.state = .silenced(link, releasedBy: fault)
        case .closing(_, let mode): self.state = .closing(link, mode)
        case .finished: break
        case .modifying: preconditionFailure("ProxyLinkStateMachine used while modifying")
        }
    }

    private mutating func modifyLink(_ change: (inout Link) -> Void) {
        guard var link = self.link else { return }
        change(&link)
        self.replaceLink(link)
    }
}
