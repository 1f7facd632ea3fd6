import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Catches SIGINT and SIGTERM from the moment it is created, so long-running commands can close every socket
/// before exiting, even when the signal arrives while they are still starting.
package final class ShutdownSignal: @unchecked Sendable {
    // @unchecked: both stored properties are immutable after init; dispatch sources are thread-safe objects.
    private let received: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    /// Starts catching SIGINT and SIGTERM (their default action, exiting at once, is switched off).
    package init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let queue = DispatchQueue(label: "squall.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.received = stream
        self.sources = sources
    }

    deinit {
        for source in self.sources {
            source.cancel()
        }
    }

    /// Suspends until SIGINT or SIGTERM arrives, `limit` passes, or the task is cancelled. Call it from one task at
    /// a time.
    ///
    /// - Parameter limit: the longest wait; nil waits for a signal only.
    /// - Returns: the signal number, or nil when the limit passed (or the task was cancelled) first.
    package func wait(upTo limit: Duration? = nil) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await number in self.received {
                    return number
                }
                return nil
            }
            if let limit {
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
