/// Which way the bytes a fault acts on travel through the proxy.
public enum FaultDirection: String, Sendable, Hashable, CaseIterable {
    /// Client → server.
    case upstream
    /// Server → client (Toxiproxy's default).
    case downstream
}
