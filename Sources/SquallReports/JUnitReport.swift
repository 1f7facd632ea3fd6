import SquallScenarios

/// `junit.xml`: one test suite per scenario, one test case per gate, the observed value in each failure message,
/// so CI systems show a failed gate like a failed test.
enum JUnitReport {
    /// The XML for one or more runs (one `<testsuite>` each), and for each scenario refused before it ran a suite
    /// of its own whose one test case is an `<error type="refused">` saying why.
    static func xml(_ records: [RunRecord], refused: [(scenario: String, reason: String)] = []) -> String {
        let tests = records.reduce(0) { $0 + $1.gates.count + ($1.interrupted ? 1 : 0) } + refused.count
        let failures = records.reduce(0) { $0 + Self.failures($1) }
        let errors = records.reduce(0) { $0 + Self.errors($1) } + refused.count
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"squall\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        for record in records {
            let seconds = (record.endedAt - record.startedAt) / 1_000
            xml +=
                "  <testsuite name=\"\(Self.escape(record.scenario.name))\" tests=\"\(record.gates.count + (record.interrupted ? 1 : 0))\" failures=\"\(Self.failures(record))\" errors=\"\(Self.errors(record))\" time=\"\(MetricSummary.format(seconds))\">\n"
            xml += "    <properties>\n"
            xml += "      <property name=\"seed\" value=\"\(record.scenario.seed)\"/>\n"
            xml += "      <property name=\"planDigest\" value=\"\(record.planDigest)\"/>\n"
            xml += "      <property name=\"version\" value=\"\(Self.escape(record.version))\"/>\n"
            xml += "      <property name=\"verdict\" value=\"\(record.verdict.rawValue)\"/>\n"
            xml += "      <property name=\"harness\" value=\"\(Self.escape(record.harness.summary))\"/>\n"
            xml += "    </properties>\n"
            if record.interrupted {
                xml +=
                    "    <testcase classname=\"squall.\(Self.escape(record.scenario.name))\" name=\"run completed\">\n"
                xml +=
                    "      <failure message=\"the run was interrupted (\(Self.escape(record.endReason))); metrics are partial\"/>\n"
                xml += "    </testcase>\n"
            }
            for result in record.gates {
                let name = "\(result.gate.key) \(result.gate.expression)"
                xml +=
                    "    <testcase classname=\"squall.\(Self.escape(record.scenario.name))\" name=\"\(Self.escape(name))\">\n"
                if result.verdict != .passed {
                    let observed = result.observed.map { MetricSummary.format($0) } ?? "no samples"
                    var message = "observed \(observed), expected \(result.gate.expression)"
                    if result.gate.metric == .faultsNotInjected {
                        message += ": never injected: " + record.metrics.faultsNotInjected.joined(separator: ", ")
                    }
                    if let note = GateNote.text(result, in: record) { message += " (\(note))" }
                    if record.excuses(result) {
                        message +=
                            " — inconclusive: the harness was overloaded (\(record.harness.summary)); \(record.harness.advice)"
                        xml += "      <error type=\"inconclusive\" message=\"\(Self.escape(message))\"/>\n"
                    } else {
                        xml += "      <failure message=\"\(Self.escape(message))\"/>\n"
                    }
                }
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        for (scenario, reason) in refused {
            let name = Self.escape(scenario)
            xml += "  <testsuite name=\"\(name)\" tests=\"1\" failures=\"0\" errors=\"1\" time=\"0\">\n"
            xml += "    <testcase classname=\"squall.\(name)\" name=\"run\">\n"
            xml +=
                "      <error type=\"refused\" message=\"\(Self.escape("not run, inconclusive: \(reason)"))\"/>\n"
            xml += "    </testcase>\n  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    /// Failed gates counted as failures: every one the harness cannot excuse.
    private static func failures(_ record: RunRecord) -> Int {
        let gates = record.gates.filter { $0.verdict == .failed }.count
        return gates + (record.interrupted ? 1 : 0)
    }

    /// Gates an overloaded harness leaves without a verdict: errors of the harness, not failures of the app.
    private static func errors(_ record: RunRecord) -> Int {
        record.gates.filter { record.excuses($0) }.count
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
