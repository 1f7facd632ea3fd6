import ArgumentParser
import SquallFaults

/// `squall faults`: lists every fault type with its attributes, units and defaults.
struct FaultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "List every fault type with its attributes, units and defaults.",
        discussion: "Exit codes: 0 listed, 64 usage."
    )

    func run() {
        for type in FaultType.allCases {
            print("\(type.rawValue): \(type.summary)")
            for attribute in type.attributes {
                print(
                    "    \(attribute.name) (\(attribute.unitName), default \(attribute.isText ? "\"" + attribute.defaultText + "\"" : JSONValue.format(attribute.defaultValue))): \(attribute.summary)"
                )
            }
        }
    }
}
