import SquallFaults

extension Fault {
    /// The fault with its time attributes (milliseconds, microseconds) multiplied by `factor`, the scenario's
    /// `timeScale`; sizes and rates are left alone.
    ///
    /// - Throws: ``FaultError`` when a scaled value leaves its attribute's range (a day at most for durations).
    func scaled(by factor: Double) throws(FaultError) -> Fault {
        guard factor != 1 else { return self }
        var attributes = self.attributes
        var text = self.textAttributes
        // A named intermediary's idle timeout is a duration too: spell it out so it scales like the others.
        if self.type == .idleTimeout, let preset = text["preset"].flatMap(IdleTimeoutPreset.init(rawValue:)) {
            attributes["timeout"] = preset.timeout.milliseconds
            text["preset"] = ""
        }
        for attribute in self.type.attributes {
            switch attribute.unit {
            case .milliseconds, .microseconds:
                if let value = attributes[attribute.name] { attributes[attribute.name] = value * factor }
            default:
                continue
            }
        }
        var scaled = try Fault(
            name: self.name,
            type: self.type,
            direction: self.direction,
            toxicity: self.toxicity,
            attributes: attributes,
            text: text
        )
        scaled.connections = self.connections
        scaled.clients = self.clients
        return scaled
    }
}

extension NetworkProfile {
    /// The profile with latency and jitter multiplied by `factor` (bandwidth left alone).
    func scaled(by factor: Double) -> NetworkProfile {
        guard factor != 1 else { return self }
        var scaled = self
        scaled.upstream.latency = self.upstream.latency * factor
        scaled.upstream.jitter = self.upstream.jitter * factor
        scaled.downstream.latency = self.downstream.latency * factor
        scaled.downstream.jitter = self.downstream.jitter * factor
        return scaled
    }
}
