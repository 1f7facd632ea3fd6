import SquallFaults

/// Milder versions of one timeline entry, mildest change first, for shrinking "fault strength": a shorter fault, one
/// occurrence instead of a repetition, fewer connections or clients hit, a milder handoff, a weaker fault attribute.
///
/// Strength orders, written once here (the README's "Shrinking" lists them):
/// - a handoff's cut: `reset` > `blackhole` > `fin` (the order: an RST is the strongest cut); its blackout
///   mode: `blackhole` > `refuse`; its blackout: halved, then none; its `to` profile: dropped;
/// - any step: `for` halved; `every` dropped (one occurrence), else its period doubled; `target.connections` and
///   `target.clients` halved;
/// - a fault: `toxicity` halved; each attribute in the direction that weakens it — a latency, delay, jitter or loss
///   rate halved; a rate limit, byte or frame allowance, lifetime or idle timeout doubled (``attributeDirections``).
///
/// A variant may fail validation (a doubled value out of range, a step that now ends after the scenario): the
/// shrinker tries it, sees it refused, and never keeps it.
package enum StepWeakening {
    /// Which way an attribute weakens its fault.
    package enum Direction: Sendable {
        /// Smaller is milder: halved.
        case lower
        /// Larger is milder: doubled.
        case higher
    }

    /// Each fault attribute whose strength has a direction, by `type.attribute`.
    package static let attributeDirections: [String: Direction] = [
        "latency.latency": .lower, "latency.jitter": .lower,
        "bandwidth.rate": .higher,
        "slicer.delay": .lower,
        "slow_close.delay": .lower,
        "limit_data.bytes": .higher,
        "limit_time.lifetime": .higher,
        "idle_timeout.timeout": .higher,
        "slow_open.delay": .lower,
        "close_after_frames.frames": .higher,
        "delay_frames.delay": .lower,
        "fail_requests.every": .higher, "fail_requests.rate": .lower,
        "delay_requests.delay": .lower,
        "packet_loss.loss_rate": .lower, "packet_loss.correlation": .lower,
        "tcp_loss.loss_rate": .lower, "tcp_loss.correlation": .lower,
        "buffer_stream.bytes": .lower, "buffer_stream.interval": .lower,
        "cut_stream.events": .higher, "cut_stream.rate": .lower,
        "drop_events.rate": .lower, "drop_events.every": .higher,
    ]

    /// A handoff's cut modes, strongest first.
    static let handoffModes = ["reset", "blackhole", "fin"]
    /// A handoff's blackout modes, strongest first.
    static let blackoutModes = ["blackhole", "refuse"]

    /// The milder variants of `step`, in the order they are tried.
    package static func variants(of step: JSONValue) -> [JSONValue] {
        guard case .object(let entry) = step else { return [] }
        var variants: [JSONValue] = []
        func with(_ change: (inout [String: JSONValue]) -> Bool) {
            var copy = entry
            if change(&copy) { variants.append(.object(copy)) }
        }
        // The step as a whole: shorter, once, fewer targets.
        with { Self.scaleDuration(&$0, "for", by: 0.5) }
        with { Self.remove(&$0, "every") }
        with { Self.scaleDuration(&$0, "every", by: 2) }
        for fraction in ["connections", "clients"] {
            with { entry in Self.editObject(&entry, "target") { Self.scaleNumber(&$0, fraction, by: 0.5) } }
        }
        // A handoff: a milder cut and blackout.
        with { entry in
            Self.editObject(&entry, "handoff") { Self.nextMode(&$0, "mode", Self.handoffModes, absent: "reset") }
        }
        with { entry in
            Self.editObject(&entry, "handoff") { Self.nextMode(&$0, "during", Self.blackoutModes, absent: "refuse") }
        }
        with { entry in Self.editObject(&entry, "handoff") { Self.scaleDuration(&$0, "blackout", by: 0.5) } }
        with { entry in Self.editObject(&entry, "handoff") { Self.remove(&$0, "blackout") } }
        with { entry in Self.editObject(&entry, "handoff") { Self.remove(&$0, "to") } }
        // A fault: less often, and each attribute weaker.
        with { entry in Self.editObject(&entry, "fault") { Self.scaleNumber(&$0, "toxicity", by: 0.5) } }
        if let faultKey = ScenarioDraft.key("fault", in: entry), case .object(let fault)? = entry[faultKey],
            let typeKey = ScenarioDraft.key("type", in: fault), case .string(let type)? = fault[typeKey],
            let attributesKey = ScenarioDraft.key("attributes", in: fault),
            case .object(let attributes)? = fault[attributesKey]
        {
            for name in attributes.keys.sorted() {
                guard let direction = Self.attributeDirections["\(type.lowercased()).\(name.lowercased())"] else {
                    continue
                }
                with { entry in
                    Self.editObject(&entry, "fault") { fault in
                        Self.editObject(&fault, "attributes") {
                            Self.scaleNumber(&$0, name, by: direction == .lower ? 0.5 : 2, keepsWhole: true)
                        }
                    }
                }
            }
        }
        return variants
    }

    private static func remove(_ object: inout [String: JSONValue], _ name: String) -> Bool {
        guard let key = ScenarioDraft.key(name, in: object) else { return false }
        object.removeValue(forKey: key)
        return true
    }

    /// Edits the object member `name` in place; false when there is none or `change` changed nothing.
    private static func editObject(
        _ object: inout [String: JSONValue],
        _ name: String,
        _ change: (inout [String: JSONValue]) -> Bool
    ) -> Bool {
        guard let key = ScenarioDraft.key(name, in: object), case .object(var inner)? = object[key] else {
            return false
        }
        guard change(&inner) else { return false }
        object[key] = .object(inner)
        return true
    }

    /// Multiplies a duration member (`"2s"`) by `factor`, written in whole milliseconds; false when it would not
    /// change (or would reach 0 by halving: dropping it is a variant of its own).
    private static func scaleDuration(_ object: inout [String: JSONValue], _ name: String, by factor: Double) -> Bool {
        guard let key = ScenarioDraft.key(name, in: object), let milliseconds = ScenarioDraft.milliseconds(object[key])
        else { return false }
        let scaled = (milliseconds * factor).rounded(.down)
        guard scaled >= 1, scaled != milliseconds else { return false }
        object[key] = .string("\(Int(scaled))ms")
        return true
    }

    /// Multiplies a number member by `factor` (with `keepsWhole`, a whole number stays whole, rounded down: a count
    /// of bytes or frames; a fraction is not rounded); false when it would not change.
    private static func scaleNumber(
        _ object: inout [String: JSONValue],
        _ name: String,
        by factor: Double,
        keepsWhole: Bool = false
    ) -> Bool {
        guard let key = ScenarioDraft.key(name, in: object), case .number(let value)? = object[key] else {
            return false
        }
        var scaled = value * factor
        if keepsWhole, value.rounded() == value { scaled.round(.down) }
        guard scaled != value, scaled >= 0 else { return false }
        object[key] = .number(scaled)
        return true
    }

    /// Moves a mode member one step down its ladder (`absent`: the mode when the member is not written).
    private static func nextMode(
        _ object: inout [String: JSONValue],
        _ name: String,
        _ ladder: [String],
        absent: String
    ) -> Bool {
        let key = ScenarioDraft.key(name, in: object) ?? name
        let current: String
        switch object[key] {
        case .string(let text)?: current = text.lowercased()
        case nil: current = absent
        case .some: return false
        }
        guard let index = ladder.firstIndex(of: current), index + 1 < ladder.count else { return false }
        object[key] = .string(ladder[index + 1])
        return true
    }
}
