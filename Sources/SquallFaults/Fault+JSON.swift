extension Fault {
    /// Reads a fault from its JSON form, Toxiproxy's toxic shape:
    /// `{"name", "type", "stream" (or "direction"), "toxicity", "attributes"}`.
    ///
    /// `attributes: null` and a missing `attributes` mean all defaults; keys match case-insensitively.
    ///
    /// - Parameters:
    ///   - json: the fault object.
    ///   - path: its JSON path, for errors.
    /// - Throws: ``FaultError`` naming the path of each problem (``FaultError/several(_:total:)`` for more than one).
    public init(json: JSONValue, path: String) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: path)
        // Every problem is listed, in Toxiproxy's order (the stream first, then the type), so its clients see the
        // message they expect first.
        var errors = ValidationErrors()
        var streamText = errors.check(nil) { () throws(FaultError) -> String? in try reader.string("stream") }
        if streamText == nil {
            streamText = errors.check(nil) { () throws(FaultError) -> String? in try reader.string("direction") }
        }
        var direction = FaultDirection.downstream
        if let streamText {
            if let parsed = FaultDirection(rawValue: streamText.lowercased()) {
                direction = parsed
            } else {
                errors.append(
                    FaultError.invalidValue(
                        path: reader.path(of: "stream"),
                        expected: "\"upstream\" or \"downstream\"",
                        found: JSONValue.string(streamText).typeDescription
                    )
                )
            }
        }
        let type = errors.check(nil) { () throws(FaultError) -> FaultType? in
            guard let typeName = try reader.string("type") else {
                throw FaultError.missingField(path: path, field: "type")
            }
            guard let type = FaultType(rawValue: typeName.lowercased()) else {
                throw FaultError.unknownFaultType(path: reader.path(of: "type"), found: typeName)
            }
            return type
        }
        let toxicity = errors.check(1) { () throws(FaultError) -> Double in
            try reader.number("toxicity", in: 0...1, expected: "a probability in 0...1") ?? 1
        }
        let name = errors.check(nil) { () throws(FaultError) -> String? in
            let name = try reader.string("name")
            if let name, name.isEmpty {
                throw FaultError.invalidValue(
                    path: reader.path(of: "name"),
                    expected: "a non-empty name",
                    found: "string \"\""
                )
            }
            return name
        }
        let attributes = reader.value("attributes") ?? .object([:])
        let connections = errors.check(nil) { () throws(FaultError) -> Set<UInt64>? in
            guard let selector = try reader.array("connections") else { return nil }
            var connections = Set<UInt64>()
            for (index, entry) in selector.enumerated() {
                guard case .number(let number) = entry, number >= 1, number.rounded() == number, number < 9e15 else {
                    throw FaultError.invalidValue(
                        path: "\(reader.path(of: "connections"))[\(index)]",
                        expected: "a connection id (a whole number ≥ 1)",
                        found: entry.typeDescription
                    )
                }
                connections.insert(UInt64(number))
            }
            return connections
        }
        let clients = errors.check(nil) { () throws(FaultError) -> Set<String>? in
            guard let selector = try reader.array("clients") else { return nil }
            var clients = Set<String>()
            for (index, entry) in selector.enumerated() {
                guard case .string(let client) = entry, !client.isEmpty else {
                    throw FaultError.invalidValue(
                        path: "\(reader.path(of: "clients"))[\(index)]",
                        expected: "a client identity (a non-empty string such as \"web-3\")",
                        found: entry.typeDescription
                    )
                }
                clients.insert(client)
            }
            return clients
        }
        errors.check(()) { () throws(FaultError) in try reader.rejectUnknownKeys() }
        let attributesPath = reader.path(of: "attributes")
        // The attributes are read against the type: without one, they cannot be checked.
        guard let type else {
            try errors.throwIfAny()
            throw FaultError.missingField(path: path, field: "type")
        }
        let read = errors.check(nil) { () throws(FaultError) -> ([String: Double], [String: String])? in
            try Fault.readAttributes(attributes, type: type, path: attributesPath)
        }
        try errors.throwIfAny()
        guard let (values, texts) = read else { throw FaultError.missingField(path: path, field: "attributes") }
        try self.init(
            validatedName: name ?? "\(type.rawValue)_\(streamText ?? direction.rawValue)",
            type: type,
            direction: direction,
            toxicity: toxicity,
            values: values,
            texts: texts,
            attributesPath: attributesPath
        )
        self.connections = connections
        self.clients = clients
    }

    /// The fault in Toxiproxy's toxic shape, every attribute of the type included, plus `connections` and `clients`
    /// when those selectors are set.
    public var json: JSONValue {
        var attributes: [String: JSONValue] = [:]
        for (key, value) in self.attributes { attributes[key] = .number(value) }
        for (key, value) in self.textAttributes { attributes[key] = .string(value) }
        var members: [String: JSONValue] = [
            "name": .string(self.name),
            "type": .string(self.type.rawValue),
            "stream": .string(self.direction.rawValue),
            "toxicity": .number(self.toxicity),
            "attributes": .object(attributes),
        ]
        if let connections = self.connections {
            members["connections"] = .array(connections.sorted().map { .number(Double($0)) })
        }
        if let clients = self.clients {
            members["clients"] = .array(clients.sorted().map { .string($0) })
        }
        return .object(members)
    }
}
