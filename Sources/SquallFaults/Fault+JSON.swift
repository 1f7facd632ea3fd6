extension Fault {
    /// Reads a fault from its JSON form, Toxiproxy's toxic shape:
    /// `{"name", "type", "stream" (or "direction"), "toxicity", "attributes"}`.
    ///
    /// `attributes: null` and a missing `attributes` mean all defaults; keys match case-insensitively.
    ///
    /// - Parameters:
    ///   - json: the fault object.
    ///   - path: its JSON path, for errors.
    /// - Throws: ``FaultError`` naming the path of the first problem.
    public init(json: JSONValue, path: String) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: path)
        // The stream first, then the type: Toxiproxy's order, so its clients see the message they expect.
        var streamText = try reader.string("stream")
        if streamText == nil {
            streamText = try reader.string("direction")
        }
        var direction = FaultDirection.downstream
        if let streamText {
            guard let parsed = FaultDirection(rawValue: streamText.lowercased()) else {
                throw FaultError.invalidValue(
                    path: reader.path(of: "stream"),
                    expected: "\"upstream\" or \"downstream\"",
                    found: JSONValue.string(streamText).typeDescription
                )
            }
            direction = parsed
        }
        let typeName = try reader.string("type")
        guard let typeName else {
            throw FaultError.missingField(path: path, field: "type")
        }
        guard let type = FaultType(rawValue: typeName.lowercased()) else {
            throw FaultError.unknownFaultType(path: reader.path(of: "type"), found: typeName)
        }
        let toxicity = try reader.number("toxicity", in: 0...1, expected: "a probability in 0...1") ?? 1
        let name = try reader.string("name")
        if let name, name.isEmpty {
            throw FaultError.invalidValue(
                path: reader.path(of: "name"),
                expected: "a non-empty name",
                found: "string \"\""
            )
        }
        let attributes = reader.value("attributes") ?? .object([:])
        var connections: Set<UInt64>?
        if let selector = try reader.array("connections") {
            connections = []
            for (index, entry) in selector.enumerated() {
                guard case .number(let number) = entry, number >= 1, number.rounded() == number, number < 9e15 else {
                    throw FaultError.invalidValue(
                        path: "\(reader.path(of: "connections"))[\(index)]",
                        expected: "a connection id (a whole number ≥ 1)",
                        found: entry.typeDescription
                    )
                }
                connections?.insert(UInt64(number))
            }
        }
        var clients: Set<String>?
        if let selector = try reader.array("clients") {
            clients = []
            for (index, entry) in selector.enumerated() {
                guard case .string(let client) = entry, !client.isEmpty else {
                    throw FaultError.invalidValue(
                        path: "\(reader.path(of: "clients"))[\(index)]",
                        expected: "a client identity (a non-empty string such as \"web-3\")",
                        found: entry.typeDescription
                    )
                }
                clients?.insert(client)
            }
        }
        try reader.rejectUnknownKeys()
        let attributesPath = reader.path(of: "attributes")
        let (values, texts) = try Fault.readAttributes(attributes, type: type, path: attributesPath)
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
