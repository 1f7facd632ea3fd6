import ArgumentParser
import SquallFaults

/// `--budget 60s`: how long a search (`squall shrink`, `squall explore`, `squall bench explore`) may take; a duration
/// above 0, read once when the arguments are.
struct SearchBudget: ExpressibleByArgument, Sendable {
    /// The budget.
    let duration: Duration

    init?(argument: String) {
        guard let duration = Duration(parsing: argument), duration > .zero else { return nil }
        self.duration = duration
    }

    var defaultValueDescription: String { self.duration.squallText }
}
