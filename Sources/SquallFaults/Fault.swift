/// One configured fault: a named, typed disturbance on one direction of a proxy's connections.
///
/// A fault acts on a given connection with probability `toxicity`, drawn once per connection from the run seed
/// (see ``acts(onConnection:origin:proxy:seeds:)``) and never re-drawn when other faults change.
public struct Fault: Sendable, Hashable {
    /// Unique within its proxy, across both directions.
    public var name: String
    /// What kind of fault this is.
    public var type: FaultType
    /// Which way the affected bytes travel.
    public var direction: FaultDirection
    /// Probability in `0...1` that the fault acts on a given connection.
    public var toxicity: Double
    /// Every numeric attribute of the type, in its documented unit (defaults filled in).
    public private(set) var attributes: [String: Double]
    /// Every text attribute of the type (defaults filled in), e.g. `block_upgrade`'s `mode`.
    public private(set) var textAttributes: [String: String]
    /// The typed view of the attributes.
    package private(set) var effect: FaultEffect
    /// When set, the fault acts only on these connections (by their serial number within the proxy, as listed by
    /// the proxy's connections), and toxicity is drawn among them. Nil means every connection.
    public var connections: Set<UInt64>?
    /// When set, the fault acts only on connections opened by these clients (by their identity in a scenario,
    /// `group-n`; see ``ConnectionOrigin``), and toxicity is drawn among those. A connection whose client the proxy
    /// does not know is left alone. Nil means every client.
    public var clients: Set<String>?

    /// Creates a fault, validating its attributes.
    ///
    /// - Parameters:
    ///   - name: unique within the proxy; defaults to `<type>_<direction>` as in Toxiproxy.
    ///   - type: the fault type.
    ///   - direction: which way the affected bytes travel.
    ///   - toxicity: probability in `0...1` that a connection is affected.
    ///   - attributes: attribute values in their units; omitted ones take their defaults.
    /// - Throws: ``FaultError`` for unknown attributes or out-of-range values.
    public init(
        name: String? = nil,
        type: FaultType,
        direction: FaultDirection = .downstream,
        toxicity: Double = 1,
        attributes: [String: Double] = [:],
        text: [String: String] = [:]
    ) throws(FaultError) {
        var json: [String: JSONValue] = [:]
        for (key, value) in attributes { json[key] = .number(value) }
        for (key, value) in text { json[key] = .string(value) }
        guard toxicity.isFinite, (0...1).contains(toxicity) else {
            throw FaultError.invalidValue(
                path: "toxicity",
                expected: "a probability in 0...1",
                found: "number \(toxicity)"
            )
        }
        let (values, texts) = try Fault.readAttributes(.object(json), type: type, path: "attributes")
        try self.init(
            validatedName: name ?? "\(type.rawValue)_\(direction.rawValue)",
            type: type,
            direction: direction,
            toxicity: toxicity,
            values: values,
            texts: texts,
            attributesPath: "attributes"
        )
    }

    /// Creates a fault from attributes ``readAttributes(_:type:path:)`` has already validated; only the effect is
    /// derived (and checked across attributes), so a fault read from JSON is validated once.
    init(
        validatedName name: String,
        type: FaultType,
        direction: FaultDirection,
        toxicity: Double,
        values: [String: Double],
        texts: [String: String],
        attributesPath: String
    ) throws(FaultError) {
        self.name = name
        self.type = type
        self.direction = direction
        self.toxicity = toxicity
        self.attributes = values
        self.textAttributes = texts
        self.effect = try FaultEffect(type: type, values: values, text: texts, path: attributesPath)
    }

    /// Returns a copy with some attributes changed (the others kept), as Toxiproxy's toxic update does.
    ///
    /// - Throws: ``FaultError`` when a new value is invalid.
    public func updating(
        attributes changes: JSONValue?,
        toxicity: Double?,
        path: String = ""
    ) throws(FaultError) -> Fault {
        var merged: [String: JSONValue] = [:]
        for (key, value) in self.attributes { merged[key] = .number(value) }
        for (key, value) in self.textAttributes { merged[key] = .string(value) }
        let attributesPath = path.isEmpty ? "attributes" : "\(path).attributes"
        if let changes {
            guard case .object(let members) = changes else {
                throw FaultError.invalidValue(
                    path: attributesPath,
                    expected: "an object",
                    found: changes.typeDescription
                )
            }
            for (key, value) in members where value != .null {
                let canonical = self.type.attributes.first { $0.name.lowercased() == key.lowercased() }?.name ?? key
                merged[canonical] = value
            }
        }
        var copy = self
        if let toxicity {
            guard (0...1).contains(toxicity) else {
                throw FaultError.invalidValue(
                    path: path.isEmpty ? "toxicity" : "\(path).toxicity",
                    expected: "a probability in 0...1",
                    found: "number \(JSONValue.format(toxicity))"
                )
            }
            copy.toxicity = toxicity
        }
        (copy.attributes, copy.textAttributes) = try Fault.readAttributes(
            .object(merged),
            type: self.type,
            path: attributesPath
        )
        copy.effect = try FaultEffect(
            type: self.type,
            values: copy.attributes,
            text: copy.textAttributes,
            path: attributesPath
        )
        return copy
    }

    /// Whether this fault acts on a connection of proxy `proxy`: the connection and client selectors first, then
    /// the seeded toxicity draw.
    ///
    /// The draw is a pure function of the seed, the proxy, the fault's name and the connection's key (its
    /// ``ConnectionOrigin`` when known, else its serial number), so it never changes when other faults are added or
    /// removed (unlike Toxiproxy, which re-rolls), and raising a fault's toxicity only adds connections: the draw is
    /// compared with the threshold, not redrawn.
    ///
    /// - Parameters:
    ///   - serial: the connection's serial number within the proxy.
    ///   - origin: the client that opened it, when the proxy knows.
    ///   - proxy: the proxy's name.
    ///   - seeds: the run's seed tree.
    public func acts(onConnection serial: UInt64, origin: ConnectionOrigin?, proxy: String, seeds: SeedTree) -> Bool {
        if let connections = self.connections, !connections.contains(serial) {
            return false
        }
        if let clients = self.clients {
            guard let origin, clients.contains(origin.client) else { return false }
        }
        if self.toxicity >= 1 { return true }
        if self.toxicity <= 0 { return false }
        let key = origin?.key ?? String(serial)
        return seeds.toxicityDraw(proxy: proxy, fault: self.name, connection: key) < self.toxicity
    }

    /// Validates an `attributes` object for `type`, filling in defaults.
    static func readAttributes(
        _ value: JSONValue,
        type: FaultType,
        path: String
    ) throws(FaultError) -> ([String: Double], [String: String]) {
        var values: [String: Double] = [:]
        var texts: [String: String] = [:]
        var reader = try JSONObjectReader(value, path: path)
        // Every bad attribute is listed, not only the first.
        var errors = ValidationErrors()
        for attribute in type.attributes {
            let given = reader.value(attribute.name)
            if attribute.isText {
                texts[attribute.name] = errors.check(attribute.defaultText) { () throws(FaultError) -> String? in
                    try given.map { value throws(FaultError) in
                        try attribute.readText(value, path: reader.path(of: attribute.name))
                    } ?? attribute.defaultText
                }
            } else if let given {
                values[attribute.name] = errors.check(attribute.defaultValue) { () throws(FaultError) -> Double in
                    try attribute.read(given, path: reader.path(of: attribute.name))
                }
            } else {
                values[attribute.name] = attribute.defaultValue
            }
        }
        for unknown in reader.unknownKeys {
            let known = type.attributes.map(\.name)
            errors.append(
                FaultError.invalidValue(
                    path: reader.path(of: unknown),
                    expected: known.isEmpty
                        ? "no attributes (\(type.rawValue) takes none)"
                        : "an attribute of \(type.rawValue) (\(known.joined(separator: ", ")))",
                    found: "unknown attribute \"\(unknown)\""
                )
            )
        }
        try errors.throwIfAny()
        return (values, texts)
    }
}
