import Foundation
import SquallFaults

/// Renders the proxies' live counters in the Prometheus text exposition format (version 0.0.4).
///
/// Squall's own series are `squall_proxy_*`; Toxiproxy's `toxiproxy_proxy_received_bytes_total` and
/// `toxiproxy_proxy_sent_bytes_total` are emitted too, with its labels, so existing dashboards keep working.
package enum PrometheusText {
    /// The metrics document for `proxies`.
    package static func render(_ proxies: [ProxyServer]) -> String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for sample in samples {
                lines.append("\(name){\(sample.labels)} \(sample.value)")
            }
        }
        func label(_ proxy: ProxyServer) -> String {
            "proxy=\"\(escape(proxy.name))\""
        }
        family(
            "squall_proxy_connections_accepted_total",
            "counter",
            "Connections accepted.",
            proxies.map { (label($0), $0.metrics.connectionsAccepted.value) }
        )
        family(
            "squall_proxy_connections_active",
            "gauge",
            "Connections open now.",
            proxies.map { (label($0), $0.metrics.connectionsActive.value) }
        )
        family(
            "squall_proxy_connections_closed_total",
            "counter",
            "Connections fully closed.",
            proxies.map { (label($0), $0.metrics.connectionsClosed.value) }
        )
        family(
            "squall_proxy_connect_failures_total",
            "counter",
            "Upstream connects that failed or timed out.",
            proxies.map { (label($0), $0.metrics.connectFailures.value) }
        )
        family(
            "squall_proxy_received_bytes_total",
            "counter",
            "Bytes read by the proxy, by direction.",
            proxies.flatMap { proxy in
                [
                    (label(proxy) + ",direction=\"upstream\"", proxy.metrics.bytesUpstream.value),
                    (label(proxy) + ",direction=\"downstream\"", proxy.metrics.bytesDownstream.value),
                ]
            }
        )
        family(
            "squall_proxy_sent_bytes_total",
            "counter",
            "Bytes written by the proxy after faults, by direction.",
            proxies.flatMap { proxy in
                [
                    (label(proxy) + ",direction=\"upstream\"", proxy.metrics.bytesSentUpstream.value),
                    (label(proxy) + ",direction=\"downstream\"", proxy.metrics.bytesSentDownstream.value),
                ]
            }
        )
        family(
            "squall_proxy_faults_applied_total",
            "counter",
            "Faults applied to connections, by fault type.",
            proxies.flatMap { proxy in
                FaultType.allCases.map { type in
                    (label(proxy) + ",type=\"\(type.rawValue)\"", proxy.metrics.faultsApplied(type))
                }
            }
        )
        func toxiproxyLabels(_ proxy: ProxyServer, _ direction: String) -> String {
            let configuration = proxy.configuration
            return
                "direction=\"\(direction)\",listener=\"\(escape(proxy.listenText))\",proxy=\"\(escape(proxy.name))\","
                + "upstream=\"\(escape(configuration.upstream.description))\""
        }
        family(
            "toxiproxy_proxy_received_bytes_total",
            "counter",
            "Bytes received (Toxiproxy-compatible name).",
            proxies.flatMap { proxy in
                [
                    (toxiproxyLabels(proxy, "upstream"), proxy.metrics.bytesUpstream.value),
                    (toxiproxyLabels(proxy, "downstream"), proxy.metrics.bytesDownstream.value),
                ]
            }
        )
        family(
            "toxiproxy_proxy_sent_bytes_total",
            "counter",
            "Bytes sent (Toxiproxy-compatible name).",
            proxies.flatMap { proxy in
                [
                    (toxiproxyLabels(proxy, "upstream"), proxy.metrics.bytesSentUpstream.value),
                    (toxiproxyLabels(proxy, "downstream"), proxy.metrics.bytesSentDownstream.value),
                ]
            }
        )
        return lines.joined(separator: "\n") + "\n"
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
