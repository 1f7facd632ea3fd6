/// Why a session could not go on: what to tell the user, and the exit code it means.
package struct SessionFailure: Error, Sendable, CustomStringConvertible {
    /// The exit code.
    package var exit: SquallExit
    /// What went wrong, for a line after the command's name.
    package var message: String

    /// A failure with its exit code.
    package init(_ exit: SquallExit, _ message: String) {
        self.exit = exit
        self.message = message
    }

    package var description: String { self.message }
}
