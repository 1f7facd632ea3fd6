import SquallReferenceProtocol

extension ProgressStreamStateMachine.Frame {
    /// The frame's payload as the server writes it: the JSON of a `ready_ack` or a progress message, a ping's
    /// `squall`, a pong's echo, a close frame's code and the first 120 bytes of its reason. One rule for the real
    /// server and the simulator, so both count the same bytes.
    package func payload(jobId: String) -> [UInt8] {
        var writer = ProtocolJSONWriter()
        return self.payload(jobId: jobId, writer: &writer)
    }

    /// ``payload(jobId:)``, a JSON payload written by `writer` (emptied first, its buffer kept for the next).
    private func payload(jobId: String, writer: inout ProtocolJSONWriter) -> [UInt8] {
        switch self {
        case .readyAck(let lastSeq):
            writer.removeAll()
            HandshakeMessage.readyAck(jobId: jobId, lastSeq: lastSeq).write(to: &writer)
            return writer.bytes
        case .message(let message):
            writer.removeAll()
            message.write(to: &writer)
            return writer.bytes
        case .ping:
            return Array("squall".utf8)
        case .pong(let payload):
            return payload
        case .close(let code, let reason):
            // A cut inside a character becomes U+FFFD: the reason stays valid UTF-8, as RFC 6455 requires.
            let reason = String(decoding: reason.utf8.prefix(120), as: UTF8.self)
            return [UInt8(truncatingIfNeeded: code >> 8), UInt8(truncatingIfNeeded: code)] + Array(reason.utf8)
        }
    }

    /// The bytes the frame takes on the wire from the server (unmasked): the payload and a 2-byte header (4 from
    /// 126 bytes of payload, 10 from 64 KiB).
    ///
    /// - Parameter writer: where a JSON payload is written to be measured; the simulator sizes every frame it sends
    ///   through one writer, so no buffer is allocated per frame.
    package func wireSize(jobId: String, writer: inout ProtocolJSONWriter) -> Int {
        let payload = self.payload(jobId: jobId, writer: &writer).count
        return payload + (payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10)
    }
}
