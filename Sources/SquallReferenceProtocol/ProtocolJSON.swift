import Foundation

/// The one JSON encoding of the progress protocol: sorted keys, slashes unescaped, so both ends (and logs) write the
/// same bytes for the same message.
///
/// The protocol's messages are written by ``ProtocolJSONWriter`` (the same bytes `JSONEncoder` writes) and, when
/// plain, read by ``ProtocolJSONReader``; everything else goes through Foundation.
public enum ProtocolJSON {
    /// Encodes a protocol value.
    ///
    /// - Parameter value: a message, handshake or job state.
    /// - Returns: its UTF-8 JSON.
    public static func encode(_ value: some Encodable) -> [UInt8] {
        if let message = value as? any ProtocolJSONWritable { return message.jsonBytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
    }

    /// Decodes a protocol value.
    ///
    /// - Parameters:
    ///   - type: what to read.
    ///   - bytes: UTF-8 JSON.
    /// - Returns: the value.
    /// - Throws: `DecodingError` when the bytes are not that value.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: some Sequence<UInt8>) throws -> Value {
        let bytes = Array(bytes)
        // The protocol's messages, when plain, without Foundation (ProtocolJSONReader); anything else through it.
        if type == ProgressMessage.self, let message = ProtocolJSONReader.progressMessage(bytes) as? Value {
            return message
        }
        if type == HandshakeMessage.self, let message = ProtocolJSONReader.handshakeMessage(bytes) as? Value {
            return message
        }
        if type == JobState.self, let state = ProtocolJSONReader.jobState(bytes) as? Value {
            return state
        }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }
}
