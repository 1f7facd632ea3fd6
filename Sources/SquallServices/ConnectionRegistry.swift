import NIOCore
import Synchronization

/// Every connection a server has accepted and not yet closed, registered the moment it is accepted — before a
/// byte is read — so shutting down closes a client that connected and never spoke as surely as one mid-stream.
package final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let closed = Mutex(false)

    /// An empty registry.
    package init() {}

    /// Registers an accepted connection until it closes; one accepted after ``closeAll()`` is closed at once.
    package func register(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let refused = self.closed.withLock { closed in
            if !closed { self.channels.withLock { $0[key] = channel } }
            return closed
        }
        if refused {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLock { _ = $0.removeValue(forKey: key) }
        }
    }

    /// Stops taking connections, closes at once those `isIdle` says have nothing in progress (a keep-alive
    /// connection between requests), waits up to `deadline` for the others to close by themselves, then closes the
    /// rest.
    package func drain(deadline: Duration, isIdle: (any Channel) -> Bool = { _ in false }) async {
        let open = self.stopTaking()
        for channel in open where isIdle(channel) {
            channel.close(promise: nil)
        }
        if !open.isEmpty {
            // Each close is announced on a stream, which (unlike a future) a cancelled waiter stops reading.
            let (closures, closed) = AsyncStream<Void>.makeStream()
            for channel in open {
                channel.closeFuture.whenComplete { _ in closed.yield() }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    var count = 0
                    for await _ in closures {
                        count += 1
                        if count == open.count { return }
                    }
                }
                group.addTask { try? await Task.sleep(for: deadline) }
                await group.next()
                group.cancelAll()
            }
        }
        for channel in self.channels.withLock({ Array($0.values) }) {
            channel.close(promise: nil)
        }
        for channel in open { try? await channel.closeFuture.get() }
    }

    /// Closes every registered connection, and every one registered from now on.
    package func closeAll() {
        for channel in self.stopTaking() {
            channel.close(promise: nil)
        }
    }

    /// Refuses connections from now on; returns the open ones.
    private func stopTaking() -> [any Channel] {
        self.closed.withLock { closed in
            closed = true
            return self.channels.withLock { Array($0.values) }
        }
    }
}
