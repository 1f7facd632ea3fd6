/// A named network condition: latency, jitter and bandwidth per direction, as published by browser and OS
/// throttling tools.
///
/// A byte-stream proxy delays chunks, so each direction gets half the published round-trip time (Chrome's
/// `targetLatency`), not Chrome's per-request `latency`. Packet loss cannot be expressed on a TCP stream; profiles
/// whose source lists loss say so, and flapping or black-hole faults are the way to model it.
public struct NetworkProfile: Sendable, Hashable {
    /// The bytes of one direction.
    public struct Link: Sendable, Hashable {
        /// One-way delay added to every chunk.
        public var latency: Duration
        /// Uniform variation of the delay, ±.
        public var jitter: Duration
        /// Rate in bytes per second; nil means unlimited.
        public var bytesPerSecond: Int?

        /// Creates a link.
        public init(latency: Duration, jitter: Duration = .zero, bytesPerSecond: Int?) {
            self.latency = latency
            self.jitter = jitter
            self.bytesPerSecond = bytesPerSecond
        }
    }

    /// The profile's name, e.g. `lte`.
    public var name: String
    /// Client → server.
    public var upstream: Link
    /// Server → client.
    public var downstream: Link
    /// No network at all: connects are refused and nothing flows.
    public var offline: Bool
    /// Whether the numbers are recollections rather than checked against a primary source.
    public var approximate: Bool
    /// Where the numbers come from.
    public var source: String

    /// Creates a profile.
    public init(
        name: String,
        upstream: Link,
        downstream: Link,
        offline: Bool = false,
        approximate: Bool = false,
        source: String
    ) {
        self.name = name
        self.upstream = upstream
        self.downstream = downstream
        self.offline = offline
        self.approximate = approximate
        self.source = source
    }

    /// The profile called `name`, or nil.
    public static func named(_ name: String) -> NetworkProfile? {
        self.all.first { $0.name == name.lowercased() }
    }

    /// The profile called `name`.
    ///
    /// - Throws: ``FaultError/invalidValue(path:expected:found:)`` listing the known profiles.
    public static func parse(_ name: String, path: String) throws(FaultError) -> NetworkProfile {
        guard let profile = self.named(name) else {
            throw FaultError.invalidValue(
                path: path,
                expected: "a network profile (\(self.all.map(\.name).joined(separator: ", ")))",
                found: JSONValue.string(name).typeDescription
            )
        }
        return profile
    }

    /// Every built-in profile, in the order `squall profiles` lists them.
    public static let all: [NetworkProfile] = [
        NetworkProfile(
            name: "wifi",
            upstream: Link(latency: .milliseconds(1), bytesPerSecond: 4_125_000),
            downstream: Link(latency: .milliseconds(1), bytesPerSecond: 5_000_000),
            approximate: true,
            source: "Apple Network Link Conditioner \"Wi-Fi\" (40 Mbit/s down, 33 Mbit/s up, 1 ms), unverified"
        ),
        NetworkProfile(
            name: "lte",
            upstream: Link(latency: .milliseconds(65), bytesPerSecond: 1_250_000),
            downstream: Link(latency: .milliseconds(50), bytesPerSecond: 6_250_000),
            approximate: true,
            source:
                "Apple Network Link Conditioner \"LTE\" (50 Mbit/s down, 10 Mbit/s up, 50 ms down / 65 ms up), unverified"
        ),
        NetworkProfile(
            name: "chrome-fast-4g",
            upstream: Link(latency: .milliseconds(30), bytesPerSecond: 168_750),
            downstream: Link(latency: .milliseconds(30), bytesPerSecond: 1_012_500),
            source: "Chrome DevTools \"Fast 4G\" (SPEED_FAST_4G: 1,012,500 B/s down, 168,750 B/s up, 60 ms RTT)"
        ),
        NetworkProfile(
            name: "chrome-slow-4g",
            upstream: Link(latency: .milliseconds(75), bytesPerSecond: 84_375),
            downstream: Link(latency: .milliseconds(75), bytesPerSecond: 180_000),
            source: "Chrome DevTools \"Slow 4G\" (SPEED_SLOW_4G: 180,000 B/s down, 84,375 B/s up, 150 ms RTT)"
        ),
        NetworkProfile(
            name: "chrome-slow-3g",
            upstream: Link(latency: .milliseconds(200), bytesPerSecond: 50_000),
            downstream: Link(latency: .milliseconds(200), bytesPerSecond: 50_000),
            source: "Chrome DevTools \"Slow 3G\" (SPEED_3G: 50,000 B/s each way, 400 ms RTT)"
        ),
        NetworkProfile(
            name: "nlc-3g",
            upstream: Link(latency: .milliseconds(100), bytesPerSecond: 41_250),
            downstream: Link(latency: .milliseconds(100), bytesPerSecond: 97_500),
            source: "Apple Network Link Conditioner \"3G Average\" (780 kbit/s down, 330 kbit/s up, 100 ms each way)"
        ),
        NetworkProfile(
            name: "nlc-edge",
            upstream: Link(latency: .milliseconds(440), bytesPerSecond: 25_000),
            downstream: Link(latency: .milliseconds(400), bytesPerSecond: 30_000),
            source: "Apple Network Link Conditioner \"Edge Average\" (240 kbit/s down 400 ms, 200 kbit/s up 440 ms)"
        ),
        NetworkProfile(
            name: "very-bad",
            upstream: Link(latency: .milliseconds(500), bytesPerSecond: 125_000),
            downstream: Link(latency: .milliseconds(500), bytesPerSecond: 125_000),
            approximate: true,
            source:
                "Apple Network Link Conditioner \"Very Bad Network\" (1 Mbit/s, 500 ms each way, 10 % loss not modelled), unverified"
        ),
        NetworkProfile(
            name: "offline",
            upstream: Link(latency: .zero, bytesPerSecond: 0),
            downstream: Link(latency: .zero, bytesPerSecond: 0),
            offline: true,
            source: "no network: new connections are refused and live ones closed (Chrome DevTools \"Offline\")"
        ),
    ]

    /// The prefix of the fault names a profile adds to a proxy.
    public static let faultPrefix = "profile."

    /// The faults that put this profile on a proxy: latency and bandwidth per direction, or `down` when offline.
    public var faults: [Fault] {
        if self.offline {
            return [try! Fault(name: Self.faultPrefix + "offline", type: .down)]
        }
        var faults: [Fault] = []
        for (direction, link) in [(FaultDirection.upstream, self.upstream), (.downstream, self.downstream)] {
            if link.latency > .zero || link.jitter > .zero {
                faults.append(
                    try! Fault(
                        name: "\(Self.faultPrefix)\(self.name).latency_\(direction.rawValue)",
                        type: .latency,
                        direction: direction,
                        attributes: ["latency": link.latency.milliseconds, "jitter": link.jitter.milliseconds]
                    )
                )
            }
            if let rate = link.bytesPerSecond {
                faults.append(
                    try! Fault(
                        name: "\(Self.faultPrefix)\(self.name).bandwidth_\(direction.rawValue)",
                        type: .bandwidth,
                        direction: direction,
                        attributes: ["rate": Double(rate) / 1000]
                    )
                )
            }
        }
        return faults
    }
}
