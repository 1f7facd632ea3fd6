import SquallFaults

/// Why a proxy operation failed.
public enum ProxyError: Error, Sendable, CustomStringConvertible {
    /// The configuration or a fault is invalid.
    case invalidConfiguration(FaultError)
    /// No fault of that name exists on the proxy.
    case faultNotFound(proxy: String, fault: String)
    /// A fault of that name already exists on the proxy.
    case faultExists(proxy: String, fault: String)
    /// No proxy of that name exists.
    case proxyNotFound(String)
    /// A proxy of that name already exists.
    case proxyExists(String)
    /// The listening socket could not be opened.
    case listenFailed(proxy: String, address: String, reason: String)
    /// A change would alter what cannot change, such as a fault's type.
    case immutable(String)

    /// A message a user can act on.
    public var description: String {
        switch self {
        case .invalidConfiguration(let error):
            return error.description
        case .faultNotFound(let proxy, let fault):
            return "proxy \"\(proxy)\" has no fault named \"\(fault)\""
        case .faultExists(let proxy, let fault):
            return "proxy \"\(proxy)\" already has a fault named \"\(fault)\"; choose another name or update it"
        case .proxyNotFound(let name):
            return "no proxy named \"\(name)\""
        case .proxyExists(let name):
            return "a proxy named \"\(name)\" already exists"
        case .listenFailed(let proxy, let address, let reason):
            return "proxy \"\(proxy)\" cannot listen on \(address): \(reason)"
        case .immutable(let reason):
            return reason
        }
    }
}
