/// Reads the members of one JSON object during validation, remembering its path and which keys were used.
///
/// Keys match case-insensitively, as Toxiproxy's Go decoder does, so `{"Type": "latency"}` works. Call
/// ``rejectUnknownKeys()`` last: any key nobody asked for is an error naming the known keys.
package struct JSONObjectReader {
    /// The JSON path of the object, e.g. `[0].toxics[1]`.
    package let path: String
    private let members: [String: JSONValue]
    private var knownKeys: [String] = []

    /// Starts reading `value`, which must be an object.
    ///
    /// - Throws: ``FaultError/invalidValue(path:expected:found:)`` when `value` is not an object.
    package init(_ value: JSONValue, path: String) throws(FaultError) {
        guard case .object(let members) = value else {
            throw FaultError.invalidValue(
                path: path.isEmpty ? "(document)" : path,
                expected: "an object",
                found: value.typeDescription
            )
        }
        self.path = path
        self.members = members
    }

    /// The path of a member key.
    package func path(of key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    /// The raw value of `key`, or nil when absent. `null` counts as absent.
    package mutating func value(_ key: String) -> JSONValue? {
        self.knownKeys.append(key)
        if let exact = self.members[key] {
            return exact == .null ? nil : exact
        }
        let lowered = key.lowercased()
        for (candidate, value) in self.members where candidate.lowercased() == lowered {
            return value == .null ? nil : value
        }
        return nil
    }

    /// Declares `key` as known without reading it.
    package mutating func allow(_ key: String) {
        self.knownKeys.append(key)
    }

    /// Reads an optional string.
    package mutating func string(_ key: String) throws(FaultError) -> String? {
        guard let value = self.value(key) else { return nil }
        guard case .string(let text) = value else {
            throw FaultError.invalidValue(path: self.path(of: key), expected: "a string", found: value.typeDescription)
        }
        return text
    }

    /// Reads a required string.
    package mutating func requiredString(_ key: String) throws(FaultError) -> String {
        guard let text = try self.string(key) else {
            throw FaultError.missingField(path: self.path, field: key)
        }
        return text
    }

    /// Reads an optional boolean.
    package mutating func bool(_ key: String) throws(FaultError) -> Bool? {
        guard let value = self.value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw FaultError.invalidValue(
                path: self.path(of: key),
                expected: "true or false",
                found: value.typeDescription
            )
        }
        return flag
    }

    /// Reads an optional number within `range`.
    package mutating func number(
        _ key: String,
        in range: ClosedRange<Double>,
        expected: String
    ) throws(FaultError)
        -> Double?
    {
        guard let value = self.value(key) else { return nil }
        guard case .number(let number) = value, range.contains(number) else {
            throw FaultError.invalidValue(path: self.path(of: key), expected: expected, found: value.typeDescription)
        }
        return number
    }

    /// Reads an optional whole number within `range`; a fraction such as `1.5` is refused, not truncated.
    package mutating func integer(
        _ key: String,
        in range: ClosedRange<Int64>,
        expected: String
    ) throws(FaultError) -> Int64? {
        guard let value = self.value(key) else { return nil }
        guard case .number(let number) = value, number.rounded() == number,
            number >= Double(range.lowerBound), number <= Double(range.upperBound)
        else {
            throw FaultError.invalidValue(path: self.path(of: key), expected: expected, found: value.typeDescription)
        }
        return Int64(number)
    }

    /// Reads an optional array.
    package mutating func array(_ key: String) throws(FaultError) -> [JSONValue]? {
        guard let value = self.value(key) else { return nil }
        guard case .array(let values) = value else {
            throw FaultError.invalidValue(path: self.path(of: key), expected: "an array", found: value.typeDescription)
        }
        return values
    }

    /// The keys present in the object that no read asked for.
    package var unknownKeys: [String] {
        let known = Set(self.knownKeys.map { $0.lowercased() })
        return self.members.keys.filter { !known.contains($0.lowercased()) }.sorted()
    }

    /// Throws for the first key present in the object that no read asked for.
    package func rejectUnknownKeys() throws(FaultError) {
        if let key = self.unknownKeys.first {
            throw FaultError.unknownKey(path: self.path, key: key, known: Array(Set(self.knownKeys)))
        }
    }
}
