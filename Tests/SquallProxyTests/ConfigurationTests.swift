import SquallFaults
import SquallProxy
import Testing

@Suite struct ConfigurationTests {
    @Test func readsToxiproxyPopulateShapeWithFaults() throws {
        let json = #"""
            [{"name": "api", "listen": "127.0.0.1:0", "upstream": "localhost:8080", "enabled": false,
              "toxics": [{"type": "latency", "attributes": {"latency": 100}}],
              "faults": [{"name": "cut", "type": "reset_peer", "stream": "upstream"}]}]
            """#
        let proxies = try ProxyConfiguration.list(fromJSON: Array(json.utf8))
        #expect(proxies.count == 1)
        #expect(proxies[0].upstream == HostAndPort(host: "localhost", port: 8080))
        #expect(proxies[0].enabled == false)
        #expect(proxies[0].faults.map(\.name) == ["latency_downstream", "cut"])
    }

    /// Bad configuration is refused with a message naming the proxy, the fault and the attribute.
    @Test(arguments: [
        (
            #"[{"name":"api","upstream":"127.0.0.1:1","toxics":[{"name":"slow","type":"bandwidth","attributes":{"rate":-100}}]}]"#,
            #"proxy "api": fault "slow": [0].toxics[0].attributes.rate: expected a rate in KB/s ≥ 0, found number -100"#
        ),
        (
            #"[{"name":"api","upstream":"127.0.0.1:1","toxics":[{"type":"slicer","attributes":{"average_size":0}}]}]"#,
            #"proxy "api": [0].toxics[0].attributes.average_size: expected a whole number of bytes ≥ 1, found number 0"#
        ),
        (#"[{"name":"api","upstream":"nowhere"}]"#, #"proxy "api": [0].upstream: expected "host:port""#),
        (
            #"[{"name":"api","upstream":"127.0.0.1:70000"}]"#,
            #"[0].upstream: expected "host:port" with a port in 0...65535"#
        ),
        (#"[{"upstream":"127.0.0.1:1"}]"#, #"[0]: missing required field "name""#),
        (#"[{"name":"api","upstream":"127.0.0.1:1","colour":1}]"#, #"proxy "api": [0]: unknown key "colour""#),
        (
            #"[{"name":"a","upstream":"127.0.0.1:1"},{"name":"a","upstream":"127.0.0.1:2"}]"#,
            #"[1].name: the name "a" is already used"#
        ),
        (
            #"[{"name":"a","upstream":"127.0.0.1:1","toxics":[{"type":"latency"},{"type":"latency"}]}]"#,
            #"the name "latency_downstream" is already used"#
        ),
        (#"{"name":"api"}"#, "(document): expected an array of proxies"),
        ("not json", "invalid JSON"),
    ])
    func badConfigurationIsRefused(json: String, message: String) {
        do {
            _ = try ProxyConfiguration.list(fromJSON: Array(json.utf8))
            Issue.record("accepted: \(json)")
        } catch {
            #expect("\(error)".contains(message), "got: \(error)")
        }
    }
}
