import Foundation
import SquallReferenceClient
import SquallScenarios
import Testing

/// A stored log read a chunk at a time, in time order, without holding it.
@Suite struct EventLogReaderTests {
    private func write(_ lines: [String], terminated: Bool = true) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("squall-log-\(UUID().uuidString)").path
        try (lines.joined(separator: "\n") + (terminated ? "\n" : "")).write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        return path
    }

    private func line(_ time: Int, _ client: String) -> String {
        #"{"time":\#(time),"source":"client","client":"\#(client)","event":"poll","jobId":"j","since":0}"#
    }

    private func read(_ path: String, window: Int, chunkSize: Int) throws -> (order: [String], torn: Bool) {
        let read = try EventLogReader.fold(path, into: [String](), window: window, chunkSize: chunkSize) {
            kept,
            event in
            if let client = event.clientEvent { kept.append("\(Int(event.time)) \(client.clientId)") }
        }
        return (read.state, read.torn)
    }

    @Test(arguments: [(window: 8, chunkSize: 5), (window: 2, chunkSize: 64), (window: 1, chunkSize: 1 << 20)])
    func eventsComeInStableTimeOrderWhateverTheWindowAndChunks(window: Int, chunkSize: Int) throws {
        // Out of order by up to three lines (a real run's log), and once by far more (the last line); equal times keep
        // the order they were written in.
        let path = try self.write([
            self.line(10, "a"), self.line(12, "b"), self.line(11, "c"), self.line(10, "d"), self.line(13, "e"),
            self.line(13, "f"), self.line(12, "g"), self.line(14, "h"), self.line(9, "i"),
        ])
        let read = try self.read(path, window: window, chunkSize: chunkSize)
        #expect(read.order == ["9 i", "10 a", "10 d", "11 c", "12 b", "12 g", "13 e", "13 f", "14 h"])
        #expect(!read.torn)
    }

    @Test func aLastLineCutOffIsDroppedAndABadLineIsNamed() throws {
        let torn = try self.write([self.line(1, "a"), self.line(2, "b"), #"{"time":3,"sour"#], terminated: false)
        let read = try self.read(torn, window: 4, chunkSize: 7)
        #expect(read.order == ["1 a", "2 b"])
        #expect(read.torn)
        let whole = try self.write([self.line(1, "a"), self.line(2, "b")], terminated: false)
        #expect(try self.read(whole, window: 4, chunkSize: 7) == (["1 a", "2 b"], false))
        let bad = try self.write([self.line(1, "a"), "not json", self.line(2, "b")])
        #expect {
            _ = try self.read(bad, window: 4, chunkSize: 7)
        } throws: { error in
            "\(error)".contains("line 2")
        }
        #expect(throws: ScenarioError.self) { _ = try self.read("/nonexistent/events.ndjson", window: 4, chunkSize: 7) }
    }
}
