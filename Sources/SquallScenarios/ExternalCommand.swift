import SquallFaults

/// A program Squall starts for a scenario — a team's own server or client — with its argument vector and extra
/// environment variables. No shell is involved: `arguments[0]` is a path, or a name looked up on `PATH`.
public struct ExternalCommand: Sendable, Hashable {
    /// The argument vector, program first. `{port}` in any argument is replaced with the server's port.
    public var arguments: [String]
    /// Variables added to Squall's own environment.
    public var environment: [String: String]

    /// Creates a command.
    public init(arguments: [String], environment: [String: String] = [:]) {
        self.arguments = arguments
        self.environment = environment
    }

    /// Reads `"command": ["python3", "client.py"]` and an optional sibling `"env": {"NAME": "value"}`.
    ///
    /// - Throws: ``FaultError`` naming the path of an empty or non-string argument vector or a non-string variable.
    static func read(_ reader: inout JSONObjectReader) throws(FaultError) -> ExternalCommand? {
        guard let value = reader.value("command") else {
            if reader.value("env") != nil {
                throw FaultError.invalidValue(
                    path: reader.path(of: "env"),
                    expected: "\"env\" only beside a \"command\"",
                    found: "no \"command\""
                )
            }
            return nil
        }
        let expected = "a non-empty array of strings, program first, such as [\"python3\", \"client.py\"]"
        guard case .array(let values) = value, !values.isEmpty else {
            throw FaultError.invalidValue(
                path: reader.path(of: "command"),
                expected: expected,
                found: value.typeDescription
            )
        }
        var arguments: [String] = []
        for (index, element) in values.enumerated() {
            guard case .string(let text) = element, index > 0 || !text.isEmpty else {
                throw FaultError.invalidValue(
                    path: "\(reader.path(of: "command"))[\(index)]",
                    expected: "a string (the program name may not be empty)",
                    found: element.typeDescription
                )
            }
            arguments.append(text)
        }
        var environment: [String: String] = [:]
        if let env = reader.value("env") {
            var envReader = try JSONObjectReader(env, path: reader.path(of: "env"))
            for key in envReader.unknownKeys {
                guard !key.isEmpty, !key.contains("=") else {
                    throw FaultError.invalidValue(
                        path: envReader.path(of: key),
                        expected: "a variable name without '='",
                        found: JSONValue.string(key).typeDescription
                    )
                }
                environment[key] = try envReader.requiredString(key)
            }
        }
        return ExternalCommand(arguments: arguments, environment: environment)
    }
}
