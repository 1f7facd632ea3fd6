import Foundation
import SquallFaults
import Testing

/// The plain-JSON fast path reads Squall's own log lines exactly as Foundation's parser does, and leaves anything
/// else to it.
@Suite struct PlainJSONParserTests {
    /// Every line of the logs kept in `Tests/Recheck` (a real run's and a simulation's).
    private static func storedLines() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Recheck")
        var lines: [String] = []
        for run in try FileManager.default.contentsOfDirectory(atPath: root.path) where !run.hasSuffix(".md") {
            let text = try String(contentsOf: root.appendingPathComponent("\(run)/events.ndjson"), encoding: .utf8)
            lines += text.split(separator: "\n").map(String.init)
        }
        return lines
    }

    @Test func everyStoredLogLineGivesFoundationsTree() throws {
        let lines = try Self.storedLines()
        #expect(lines.count > 2_000)
        for line in lines {
            // strict: Foundation's parser (and the strict check, which Squall's lines pass).
            let foundation = try JSONValue.parse(Array(line.utf8), strict: true)
            #expect(try JSONValue.parse(Array(line.utf8), strict: false) == foundation, "\(line)")
        }
    }

    @Test(arguments: [
        #"{"a":"tab\tin it","b":1}"#, #"{"a":"\u00e9\ud83d\ude00","b":"quote \" and \\"}"#, #"{"n":1e3,"m":-2.5E-2}"#,
        #"{"n":-0,"m":-0.0}"#, #"{"big":12345678901234567890,"small":0.1,"neg":-17.125}"#, #"[1, [2, [3, {}]], []]"#,
        #"{"é":"ü","emoji":"😀"}"#, #"  {"spaced" :  true , "x" : null }  "#, #""fragment""#, "42",
    ])
    func plainAndNotPlainDocumentsGiveFoundationsTree(_ text: String) throws {
        #expect(try JSONValue.parse(Array(text.utf8), strict: false) == JSONValue.parse(Array(text.utf8), strict: true))
    }

    @Test(arguments: [#"{"a" 1}"#, #"{"a":01}"#, #"{"a":.5}"#, #"{"a":tru}"#, #"{"a":"open}"#, "[1 2]", "{} x", ""])
    func brokenDocumentsAreStillRefused(_ text: String) {
        #expect(throws: FaultError.self) { _ = try JSONValue.parse(Array(text.utf8), strict: false) }
    }
}
