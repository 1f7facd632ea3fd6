import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A program Squall started for a scenario (a team's server or client): its output read through NIO pipe channels,
/// its exit awaited, signals sent to it. Only immutable values and `Locked` state are shared between tasks.
final class ChildProcess: Sendable {
    /// How a process ended.
    enum Termination: Sendable, Hashable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let number): "signal \(number)"
            }
        }
    }

    /// The process id (also its process group's: signals go to the whole group, so a shell wrapper's children
    /// stop with it).
    let pid: pid_t
    /// The command line, for messages.
    let commandLine: String
    private let standardOutput: Locked<CInt?>
    private let standardError: Locked<CInt?>
    private let termination: Locked<Termination?>

    /// Starts `arguments` (program first: a path, or a name looked up on `PATH`) with `environment` added to
    /// Squall's own, standard input from `/dev/null`, in its own process group, with every signal at its default
    /// action (Squall ignores SIGINT/SIGTERM to shut down in order; its children must not inherit that).
    ///
    /// - Throws: ``ScenarioError/startFailed(part:reason:)`` when the program cannot be found or started.
    init(arguments: [String], environment: [String: String], part: String) throws(ScenarioError) {
        let commandLine = arguments.joined(separator: " ")
        guard let program = Self.resolve(arguments[0]) else {
            throw .startFailed(
                part: part,
                reason: "\(arguments[0]) is not an executable file, nor a program on PATH (command: \(commandLine))"
            )
        }
        guard let output = Self.makePipe() else {
            throw .startFailed(part: part, reason: "no pipe for \(commandLine): errno \(errno)")
        }
        guard let errors = Self.makePipe() else {
            close(output[0])
            close(output[1])
            throw .startFailed(part: part, reason: "no pipe for \(commandLine): errno \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        // Nothing else of Squall's may leak into the child: an inherited listening socket would keep accepting
        // (into a queue nobody reads) after the proxy closed it for a blackout.
        Self.closeOtherDescriptors(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        var noSignal = sigset_t()
        sigemptyset(&noSignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP)
        )
        let variables = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map {
            "\($0.key)=\($0.value)"
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, &attributes, &argv, &envp)
        close(output[1])
        close(errors[1])
        guard spawned == 0 else {
            close(output[0])
            close(errors[0])
            throw .startFailed(part: part, reason: "\(commandLine): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        self.commandLine = commandLine
        self.standardOutput = Locked(output[0])
        self.standardError = Locked(errors[0])
        self.termination = Locked(nil)
    }

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, CInt) -> CInt

    /// Adds "close every descriptor from 3 up" to the spawn: glibc's `posix_spawn_file_actions_addclosefrom_np`
    /// (2.34+, looked up at run time since Swift's Glibc module does not declare it), else one close per open
    /// descriptor listed in `/proc/self/fd`.
    private static func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
            if closeFrom(&actions, 3) == 0 { return }
        }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap({ CInt($0) }) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    /// A pipe whose ends close on exec, so no other child inherits them (`dup2` onto 1 and 2 clears the flag).
    private static func makePipe() -> [CInt]? {
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        return ends
    }

    private static func resolve(_ program: String) -> String? {
        if program.contains("/") {
            return FileManager.default.isExecutableFile(atPath: program) ? program : nil
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// How it ended, nil while it runs (reaps it with `waitpid` the first time it has ended).
    var exited: Termination? {
        self.termination.withLock { termination in
            if termination == nil {
                var status: CInt = 0
                if waitpid(self.pid, &status, WNOHANG) == self.pid {
                    let signal = status & 0x7F
                    termination = signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
                }
            }
            return termination
        }
    }

    /// Waits until it ends; nil when the task is cancelled first (the run ended). Polls every 20 ms: cheap, and
    /// unlike a stream it can be awaited again after a cancelled wait.
    func waitForExit() async -> Termination? {
        while true {
            if let done = self.exited { return done }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                return self.exited
            }
        }
    }

    /// Sends a signal to its process group (nothing once it has ended and been reaped).
    func signal(_ number: Int32) {
        guard self.exited == nil else { return }
        kill(-self.pid, number)
    }

    /// Asks it to stop (SIGTERM), then kills it (SIGKILL) if it has not ended after `grace`. Runs to the end even
    /// when the calling task is cancelled, since that is when a run stops its processes.
    ///
    /// - Returns: whether it had to be killed.
    @discardableResult
    func stop(grace: Duration) async -> Bool {
        await Task {
            guard self.exited == nil else { return false }
            self.signal(SIGTERM)
            let deadline = ContinuousClock.now + grace
            while self.exited == nil && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            guard self.exited == nil else { return false }
            self.signal(SIGKILL)
            while self.exited == nil {
                try? await Task.sleep(for: .milliseconds(20))
            }
            return true
        }.value
    }

    /// Reads standard output line by line until it closes, calling `body` with each line's number (from 1) and
    /// bytes (without the newline). A line longer than `maximumLength` is cut there and passed on as it is.
    func readOutputLines(maximumLength: Int = 1 << 20, _ body: (Int, [UInt8]) async -> Void) async {
        guard let descriptor = Self.take(self.standardOutput) else { return }
        var pending: [UInt8] = []
        var number = 0
        await Self.read(descriptor) { chunk in
            for byte in chunk.readableBytesView {
                if byte == UInt8(ascii: "\n") {
                    number += 1
                    if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                    await body(number, pending)
                    pending.removeAll(keepingCapacity: true)
                } else if pending.count < maximumLength {
                    pending.append(byte)
                }
            }
        }
        if !pending.isEmpty {
            await body(number + 1, pending)
        }
    }

    /// Reads standard output until it closes, keeping the last `limit` bytes (for a server's log).
    func collectOutput(limit: Int) async -> String {
        guard let descriptor = Self.take(self.standardOutput) else { return "" }
        return await Self.collect(descriptor, limit: limit)
    }

    /// Reads standard error until it closes, keeping the last `limit` bytes.
    func collectErrors(limit: Int = 256 * 1024) async -> String {
        guard let descriptor = Self.take(self.standardError) else { return "" }
        return await Self.collect(descriptor, limit: limit)
    }

    /// Takes a pipe's read end out for reading (once: NIO then owns and closes it).
    private static func take(_ descriptor: Locked<CInt?>) -> CInt? {
        descriptor.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// Reads a descriptor until it closes, keeping the last `limit` bytes (with a note when some were dropped).
    static func collect(_ descriptor: CInt, limit: Int) async -> String {
        var kept: [UInt8] = []
        var dropped = 0
        await Self.read(descriptor) { chunk in
            kept += chunk.readableBytesView
            if kept.count > limit {
                dropped += kept.count - limit
                kept.removeFirst(kept.count - limit)
            }
        }
        let text = String(decoding: kept, as: UTF8.self)
        return dropped > 0 ? "[… \(dropped) earlier bytes dropped]\n" + text : text
    }

    /// Reads a pipe descriptor through a NIO pipe channel until end of file, giving each chunk to `body`.
    private static func read(_ descriptor: CInt, _ body: (ByteBuffer) async -> Void) async {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .takingOwnershipOfDescriptor(input: descriptor) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            close(descriptor)
            return
        }
        try? await channel.executeThenClose { inbound, _ in
            for try await chunk in inbound {
                await body(chunk)
            }
        }
    }

    deinit {
        for descriptor in [self.standardOutput.withLock { $0 }, self.standardError.withLock { $0 }].compactMap({ $0 }) {
            close(descriptor)
        }
    }
}
