/// Read access to a parsed document where its shape is already known (reports Squall wrote itself); validation of
/// user input goes through ``JSONObjectReader`` instead, which names the path of a bad value.
extension JSONValue {
    /// The member `key` of an object, nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string, nil for any other type.
    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The number, nil for any other type.
    public var numberValue: Double? {
        guard case .number(let value) = self else { return nil }
        return value
    }

    /// The elements of an array, nil for any other type.
    public var arrayValue: [JSONValue]? {
        guard case .array(let values) = self else { return nil }
        return values
    }

    /// The keys of an object, sorted; empty for any other type.
    public var objectKeys: [String] {
        guard case .object(let members) = self else { return [] }
        return members.keys.sorted()
    }
}
