import Foundation

extension JobCreation {
    /// The request body as JSON, e.g. `{"itemInterval":"250ms","totalItems":20}`.
    public var jsonBody: String {
        var fields = [
            "\"itemInterval\":\"\(IntervalText.format(self.itemInterval))\"", "\"totalItems\":\(self.totalItems)",
        ]
        if let failAfterItems = self.failAfterItems {
            fields.insert("\"failAfterItems\":\(failAfterItems)", at: 0)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// Reads a `POST /api/jobs` body; an empty body takes every default.
    ///
    /// - Parameter body: the request body.
    /// - Returns: the request, or a message naming the field that is wrong and what was expected.
    public static func parse(_ body: [UInt8]) -> Result<JobCreation, JobCreationError> {
        var creation = JobCreation()
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .success(creation) }
        guard let object = try? JSONDecoder().decode([String: BodyField].self, from: Data(body)) else {
            return .failure(JobCreationError(field: nil, message: "the body must be a JSON object"))
        }
        do {
            try StrictJSONCheck.check(body)
        } catch {
            return .failure(JobCreationError(field: nil, message: error.description))
        }
        let known: Set<String> = ["totalItems", "itemInterval", "failAfterItems"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            return .failure(
                JobCreationError(
                    field: unknown,
                    message: "unknown field; expected one of failAfterItems, itemInterval, totalItems"
                )
            )
        }
        if let value = object["totalItems"] {
            guard let number = Self.integer(value), (1...1_000_000).contains(number) else {
                return .failure(JobCreationError(field: "totalItems", message: "expected an integer from 1 to 1000000"))
            }
            creation.totalItems = number
        }
        if let value = object["itemInterval"] {
            guard case .text(let text) = value, let interval = IntervalText.parse(text),
                interval >= .milliseconds(1), interval <= .seconds(3_600)
            else {
                return .failure(
                    JobCreationError(
                        field: "itemInterval",
                        message: "expected a duration from 1ms to 1h, such as \"250ms\", \"2s\" or \"1h\""
                    )
                )
            }
            creation.itemInterval = interval
        }
        if let value = object["failAfterItems"] {
            guard let number = Self.integer(value), (1...creation.totalItems).contains(number) else {
                return .failure(
                    JobCreationError(
                        field: "failAfterItems",
                        message: "expected an integer from 1 to totalItems (\(creation.totalItems))"
                    )
                )
            }
            creation.failAfterItems = number
        }
        return .success(creation)
    }

    private static func integer(_ value: BodyField) -> Int? {
        guard case .number(let double) = value, double == double.rounded(), abs(double) < 1e15 else { return nil }
        return Int(double)
    }

    /// One field's value, as JSON typed it.
    private enum BodyField: Decodable {
        case number(Double)
        case text(String)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if (try? container.decode(Bool.self)) != nil {
                self = .other
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .other
            }
        }
    }
}

/// Why a `POST /api/jobs` body was refused.
public struct JobCreationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault, nil when the body as a whole is wrong.
    public var field: String?
    /// What was expected.
    public var message: String

    /// Creates an error.
    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    /// `totalItems: expected an integer from 1 to 1000000`.
    public var description: String {
        if let field = self.field { return "\(field): \(self.message)" }
        return self.message
    }
}
