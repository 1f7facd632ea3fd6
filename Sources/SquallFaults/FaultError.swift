/// Why a fault or proxy configuration was refused.
///
/// Every case names where the bad value is (a JSON path such as `[0].toxics[1].attributes.rate`, prefixed with the
/// proxy and fault it belongs to when known), what was expected and what was found, so a user can fix it without
/// reading Squall's source.
public enum FaultError: Error, Sendable, Hashable {
    /// The text is not JSON at all.
    case invalidJSON(String)
    /// A value has the wrong JSON type or is outside its allowed range.
    case invalidValue(path: String, expected: String, found: String)
    /// A required key is absent.
    case missingField(path: String, field: String)
    /// A key that Squall does not know; refused so that typos do not silently do nothing.
    case unknownKey(path: String, key: String, known: [String])
    /// The `type` names no fault Squall has.
    case unknownFaultType(path: String, found: String)
    /// Two faults (or proxies) share a name where names must be unique.
    case duplicateName(path: String, name: String)
    /// A value is wrong in the context of the proxy or fault it belongs to.
    indirect case inContext(subject: String, FaultError)
    /// More than one problem in one document: the first ones found (up to a cap), and how many there were.
    indirect case several([FaultError], total: Int)
}

extension FaultError {
    /// Attaches a subject such as `proxy "api", fault "slow"` to an error.
    public func within(_ subject: String) -> FaultError {
        .inContext(subject: subject, self)
    }

    /// The innermost error, without the subjects it was wrapped in.
    public var underlying: FaultError {
        if case .inContext(_, let inner) = self {
            return inner.underlying
        }
        return self
    }
}

extension FaultError: CustomStringConvertible {
    /// A message a user can act on.
    public var description: String {
        switch self {
        case .invalidJSON(let reason):
            return "invalid JSON: \(reason)"
        case .invalidValue(let path, let expected, let found):
            return "\(path): expected \(expected), found \(found)"
        case .missingField(let path, let field):
            return "\(path.isEmpty ? "" : path + ": ")missing required field \"\(field)\""
        case .unknownKey(let path, let key, let known):
            let location = path.isEmpty ? "" : path + ": "
            return "\(location)unknown key \"\(key)\" (expected one of: \(known.sorted().joined(separator: ", ")))"
        case .unknownFaultType(let path, let found):
            return "\(path): unknown fault type \"\(found)\" (expected one of: "
                + FaultType.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .duplicateName(let path, let name):
            return "\(path): the name \"\(name)\" is already used"
        case .inContext(let subject, let inner):
            return "\(subject): \(inner.description)"
        case .several(let errors, let total):
            let more = total > errors.count ? "\n  … and \(total - errors.count) more" : ""
            return "\(total) problems:\n" + errors.map { "  - \($0.description)" }.joined(separator: "\n") + more
        }
    }
}
