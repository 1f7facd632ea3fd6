import SquallFaults

/// The configuration of one named proxy: where it listens, where it forwards, and its faults.
///
/// The JSON form is one entry of Toxiproxy's populate array —
/// `{"name", "listen", "upstream", "enabled", "toxics": [...]}` — where Squall also applies the `toxics` (Toxiproxy
/// ignores them) and accepts `faults` as another name for them.
public struct ProxyConfiguration: Sendable, Hashable {
    /// Unique name of the proxy.
    public var name: String
    /// Where the proxy listens. Default `127.0.0.1:0` (a free port).
    public var listen: HostAndPort
    /// Where the proxy forwards each connection.
    public var upstream: HostAndPort
    /// Whether the proxy accepts connections. Default true.
    public var enabled: Bool
    /// The faults in creation order. Default none.
    public var faults: [Fault]
    /// How long the proxy waits for the server to accept a connection before closing the client. Default 5 s.
    public var connectTimeout: Duration
    /// The network profile applied on top of the faults (see ``NetworkProfile``). Default none.
    public var profile: NetworkProfile?

    /// Creates a configuration.
    public init(
        name: String,
        listen: HostAndPort = HostAndPort(host: "127.0.0.1", port: 0),
        upstream: HostAndPort,
        enabled: Bool = true,
        faults: [Fault] = [],
        connectTimeout: Duration = .seconds(5),
        profile: NetworkProfile? = nil
    ) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
        self.faults = faults
        self.connectTimeout = connectTimeout
        self.profile = profile
    }

    /// How strictly a proxy entry is read.
    public enum Strictness: Sendable {
        /// A file: every key must be known, so a typo cannot silently do nothing.
        case strict
        /// The control API: unknown keys are ignored, as Toxiproxy does, so clients that send whole objects back
        /// (with `listen` resolved, `toxics` listed) still work.
        case lenient
    }

    /// Reads one proxy entry. This is the only reader of the shape: files and the control API differ only in
    /// `strictness`, and the control API maps the error to Toxiproxy's wording (see ``ControlAPIError``).
    ///
    /// - Parameters:
    ///   - json: the entry.
    ///   - path: its JSON path, e.g. `[2]`.
    ///   - strictness: whether unknown keys are refused.
    /// - Throws: ``FaultError`` naming the proxy, the fault and the attribute at fault.
    public init(json: JSONValue, path: String, strictness: Strictness = .strict) throws(FaultError) {
        var reader = try JSONObjectReader(json, path: path)
        guard let name = try reader.string("name"), !name.isEmpty else {
            throw FaultError.missingField(path: path, field: "name")
        }
        do throws(FaultError) {
            guard let upstreamText = try reader.string("upstream"), !upstreamText.isEmpty else {
                throw FaultError.missingField(path: path, field: "upstream")
            }
            let upstream = try HostAndPort(parsing: upstreamText, path: reader.path(of: "upstream"))
            var listen = HostAndPort(host: "127.0.0.1", port: 0)
            if let listenText = try reader.string("listen"), !listenText.isEmpty {
                listen = try HostAndPort(parsing: listenText, path: reader.path(of: "listen"))
            }
            let enabled = try reader.bool("enabled") ?? true
            var timeout = Duration.seconds(5)
            if let value = reader.value("connect_timeout") {
                let attribute = FaultAttribute("connect_timeout", .milliseconds, minimum: 1, "")
                let milliseconds = try attribute.read(value, path: reader.path(of: "connect_timeout"))
                timeout = .nanoseconds(Int64(milliseconds * 1e6))
            }
            var faults: [Fault] = []
            for key in ["toxics", "faults"] {
                guard let entries = try reader.array(key) else { continue }
                for (index, entry) in entries.enumerated() {
                    let faultPath = "\(reader.path(of: key))[\(index)]"
                    let fault: Fault
                    do throws(FaultError) {
                        fault = try Fault(json: entry, path: faultPath)
                    } catch {
                        if case .object(let members) = entry, case .string(let faultName)? = members["name"] {
                            throw error.within("fault \"\(faultName)\"")
                        }
                        throw error
                    }
                    if faults.contains(where: { $0.name == fault.name }) {
                        throw FaultError.duplicateName(path: faultPath + ".name", name: fault.name)
                    }
                    faults.append(fault)
                }
            }
            var profile: NetworkProfile?
            if let profileName = try reader.string("profile") {
                profile = try NetworkProfile.parse(profileName, path: reader.path(of: "profile"))
            }
            if strictness == .strict {
                try reader.rejectUnknownKeys()
            }
            self.init(
                name: name,
                listen: listen,
                upstream: upstream,
                enabled: enabled,
                faults: faults,
                connectTimeout: timeout,
                profile: profile
            )
        } catch {
            throw error.within("proxy \"\(name)\"")
        }
    }

    /// Reads a proxies file: a JSON array of proxy entries with unique names.
    ///
    /// - Throws: ``FaultError`` for the first problem found; nothing is started when any entry is wrong.
    public static func list(fromJSON bytes: some Collection<UInt8>) throws(FaultError) -> [ProxyConfiguration] {
        let document = try JSONValue.parse(bytes)
        guard case .array(let entries) = document else {
            throw FaultError.invalidValue(
                path: "(document)",
                expected:
                    "an array of proxies, e.g. [{\"name\": \"api\", \"listen\": \"127.0.0.1:8000\", \"upstream\": \"127.0.0.1:8080\"}]",
                found: document.typeDescription
            )
        }
        var configurations: [ProxyConfiguration] = []
        for (index, entry) in entries.enumerated() {
            let configuration = try ProxyConfiguration(json: entry, path: "[\(index)]")
            if configurations.contains(where: { $0.name == configuration.name }) {
                throw FaultError.duplicateName(path: "[\(index)].name", name: configuration.name)
            }
            configurations.append(configuration)
        }
        return configurations
    }
}
