/// Idle timeouts of intermediaries teams meet in production, for `idle_timeout`'s `preset`, each from its vendor's
/// documentation.
public enum IdleTimeoutPreset: String, Sendable, Hashable, CaseIterable {
    /// AWS Application Load Balancer: connection idle timeout, 60 s by default.
    case awsALB = "aws-alb"
    /// nginx as a reverse proxy: `proxy_read_timeout`, 60 s by default.
    case nginx
    /// Cloudflare: a WebSocket with no data for 100 s is closed.
    case cloudflare
    /// Amazon CloudFront: WebSocket idle timeout of 10 minutes.
    case cloudfront

    /// The idle timeout.
    public var timeout: Duration {
        switch self {
        case .awsALB, .nginx: .seconds(60)
        case .cloudflare: .seconds(100)
        case .cloudfront: .seconds(600)
        }
    }
}
