/// A protocol value ``ProtocolJSONWriter`` writes.
package protocol ProtocolJSONWritable {
    /// Writes the value as its JSON.
    func write(to writer: inout ProtocolJSONWriter)
}

extension ProtocolJSONWritable {
    /// The value's JSON, as ``ProtocolJSON/encode(_:)`` writes it, without its dynamic cast (the simulator sizes
    /// every frame it sends this way).
    package var jsonBytes: [UInt8] {
        var writer = ProtocolJSONWriter()
        self.write(to: &writer)
        return writer.bytes
    }
}

extension ProgressMessage: ProtocolJSONWritable {
    /// Writes the message (keys sorted: data, jobId, seq, timestamp, type).
    package func write(to writer: inout ProtocolJSONWriter) {
        writer.object { writer in
            writer.key("data")
            self.data.write(to: &writer)
            writer.key("jobId")
            writer.string(self.jobId)
            writer.key("seq")
            writer.number(self.seq)
            writer.key("timestamp")
            writer.number(self.timestamp)
            writer.key("type")
            writer.string(self.type.rawValue)
        }
    }
}

extension ProgressData: ProtocolJSONWritable {
    /// Writes the data (keys sorted: currentStatus, processedItems, progress, totalItems).
    package func write(to writer: inout ProtocolJSONWriter) {
        writer.object { writer in
            writer.key("currentStatus")
            writer.string(self.currentStatus)
            writer.key("processedItems")
            writer.number(self.processedItems)
            writer.key("progress")
            writer.number(self.progress)
            writer.key("totalItems")
            writer.number(self.totalItems)
        }
    }
}

extension HandshakeMessage: ProtocolJSONWritable {
    /// Writes the handshake (keys sorted: jobId when set, lastSeq, type).
    package func write(to writer: inout ProtocolJSONWriter) {
        writer.object { writer in
            if let jobId = self.jobId {
                writer.key("jobId")
                writer.string(jobId)
            }
            writer.key("lastSeq")
            writer.number(self.lastSeq)
            writer.key("type")
            writer.string(self.type.rawValue)
        }
    }
}

extension JobState: ProtocolJSONWritable {
    /// Writes the state (keys sorted: jobId, lastSeq, messages, processedItems, status, totalItems).
    package func write(to writer: inout ProtocolJSONWriter) {
        writer.object { writer in
            writer.key("jobId")
            writer.string(self.jobId)
            writer.key("lastSeq")
            writer.number(self.lastSeq)
            writer.key("messages")
            writer.array(self.messages) { writer, message in message.write(to: &writer) }
            writer.key("processedItems")
            writer.number(self.processedItems)
            writer.key("status")
            writer.string(self.status.rawValue)
            writer.key("totalItems")
            writer.number(self.totalItems)
        }
    }
}
