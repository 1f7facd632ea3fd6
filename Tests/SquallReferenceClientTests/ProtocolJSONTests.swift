import Foundation
import SquallReferenceProtocol
import Testing

/// The protocol's hand-written JSON: the writer's bytes equal `JSONEncoder`'s, the reader decodes what
/// `JSONDecoder` decodes, and what the reader is not sure of still goes through `JSONDecoder`.
@Suite struct ProtocolJSONTests {
    private func foundationBytes(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    private func message(seq: Int, of total: Int, status: String = "Processing item") -> ProgressMessage {
        ProgressMessage(
            type: seq == total ? .complete : .progress,
            jobId: "job-\(seq % 7)",
            seq: seq,
            timestamp: 1_763_900_000_000 + Int64(seq),
            data: ProgressData(
                progress: Double(seq) / Double(total),
                processedItems: seq,
                totalItems: total,
                currentStatus: "\(status) \(seq)"
            )
        )
    }

    @Test func theWriterWritesJSONEncodersBytes() throws {
        var messages: [ProgressMessage] = []
        for total in [1, 3, 7, 20, 1_000, 100_000] {
            for seq in stride(from: 1, through: total, by: max(1, total / 50)) {
                messages.append(self.message(seq: seq, of: total))
            }
        }
        for status in ["a/b \"quoted\" \\ back", "tab\tnew\nline\r\u{8}\u{C}", "\u{1}\u{1F}\u{7F}", "é ✓ 😀", ""] {
            messages.append(self.message(seq: 2, of: 3, status: status))
        }
        for message in messages {
            #expect(ProtocolJSON.encode(message) == (try self.foundationBytes(message)), "\(message)")
        }
        for handshake in [
            HandshakeMessage.ready(lastSeq: 0), .ready(lastSeq: 41), .readyAck(jobId: "j/1", lastSeq: 7),
        ] {
            #expect(ProtocolJSON.encode(handshake) == (try self.foundationBytes(handshake)))
        }
        for status in [JobState.Status.running, .completed, .failed] {
            let state = JobState(
                jobId: "job",
                status: status,
                processedItems: 3,
                totalItems: 7,
                lastSeq: 3,
                messages: Array(messages.prefix(3))
            )
            #expect(ProtocolJSON.encode(state) == (try self.foundationBytes(state)))
            let empty = JobState(jobId: "j", status: status, processedItems: 0, totalItems: 1, lastSeq: 0, messages: [])
            #expect(ProtocolJSON.encode(empty) == (try self.foundationBytes(empty)))
        }
    }

    @Test func theReaderDecodesWhatItWritesAndWhatOthersWrite() throws {
        let message = self.message(seq: 3, of: 7)
        #expect(ProtocolJSONReader.progressMessage(ProtocolJSON.encode(message)) == message)
        // Another server's spelling: other key order, spaces, an extra key, a whole number for the fraction.
        let other = #"""
            { "type" : "progress", "seq": 3, "extra": [1, {"x": null}], "jobId": "j",
              "data": {"totalItems": 7, "progress": 1, "processedItems": 7, "currentStatus": "ok"},
              "timestamp": -5 }
            """#
        let read = ProtocolJSONReader.progressMessage(Array(other.utf8))
        #expect(read == (try JSONDecoder().decode(ProgressMessage.self, from: Data(other.utf8))))
        #expect(read?.data.progress == 1)
        let ack = #"{"lastSeq": 4, "type": "ready_ack", "jobId": null}"#
        let handshake = ProtocolJSONReader.handshakeMessage(Array(ack.utf8))
        #expect(handshake?.type == .readyAck && handshake?.lastSeq == 4 && handshake?.jobId == nil)
        let state = JobState(
            jobId: "job",
            status: .running,
            processedItems: 3,
            totalItems: 7,
            lastSeq: 3,
            messages: [message, self.message(seq: 4, of: 7)]
        )
        #expect(ProtocolJSONReader.jobState(ProtocolJSON.encode(state)) == state)
    }

    @Test(arguments: [
        // An escape, a fraction in a whole-number field, a repeated key, an unknown type, trailing bytes, a number
        // JSON does not allow, a value too large, not JSON at all.
        #"{"type":"progress","jobId":"a\"b","seq":1,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        #"{"type":"progress","jobId":"a","seq":1.0,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        #"{"type":"progress","type":"error","jobId":"a","seq":1,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        #"{"type":"ready_ack","jobId":"a","seq":1,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        #"{"type":"progress","jobId":"a","seq":1,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}} x"#,
        #"{"type":"progress","jobId":"a","seq":01,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        #"{"type":"progress","jobId":"a","seq":99999999999999999999,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"x"}}"#,
        "not json",
    ])
    func whatTheReaderIsNotSureOfGoesThroughJSONDecoder(text: String) {
        let bytes = Array(text.utf8)
        #expect(ProtocolJSONReader.progressMessage(bytes) == nil)
        let foundation = try? JSONDecoder().decode(ProgressMessage.self, from: Data(bytes))
        #expect((try? ProtocolJSON.decode(ProgressMessage.self, from: bytes)) == foundation)
    }

    @Test func anEscapedStringStillDecodesThroughJSONDecoder() throws {
        let text =
            #"{"type":"progress","jobId":"a\"b","seq":1,"timestamp":1,"data":{"progress":0.5,"processedItems":1,"totalItems":2,"currentStatus":"\u00e9"}}"#
        let message = try ProtocolJSON.decode(ProgressMessage.self, from: Array(text.utf8))
        #expect(message.jobId == "a\"b" && message.data.currentStatus == "é")
    }
}
