import Testing

@testable import SquallProxy

/// The shapes a proxied socket's pipeline may take, and the only changes between them (no sockets).
@Suite struct PipelineShapeTests {
    private static let events: [PipelineShape.Event] = [
        .sniffed(isHTTP: true), .sniffed(isHTTP: false), .requestWritten, .upgradeRefused,
        .switched(webSocket: true), .switched(webSocket: false),
    ]

    @Test func aClientStreamIsSniffedOnceIntoHTTPOrRaw() {
        #expect(PipelineShape.clientStart.after(.sniffed(isHTTP: true)) == .http)
        #expect(PipelineShape.clientStart.after(.sniffed(isHTTP: false)) == .raw)
        // The crash of issue 28: a second decision after the first, when a read re-entered the pipeline.
        #expect(PipelineShape.http.after(.sniffed(isHTTP: false)) == nil)
        #expect(PipelineShape.raw.after(.sniffed(isHTTP: true)) == nil)
    }

    @Test func anHTTPStreamSwitchesToFramesOrPlainBytesOnlyFromHTTP() {
        #expect(PipelineShape.http.after(.switched(webSocket: true)) == .frames)
        #expect(PipelineShape.http.after(.switched(webSocket: false)) == .plain)
        #expect(PipelineShape.http.after(.upgradeRefused) == .http)
        #expect(PipelineShape.sniffing.after(.switched(webSocket: true)) == nil)
        #expect(PipelineShape.raw.after(.switched(webSocket: true)) == nil)
        #expect(PipelineShape.raw.after(.upgradeRefused) == nil)
    }

    @Test func theServerSideInspectsAnswersFromTheFirstUpgradeRequest() {
        #expect(PipelineShape.serverStart == .raw)
        #expect(PipelineShape.serverStart.isRaw)
        #expect(PipelineShape.raw.after(.requestWritten) == .http)
        #expect(PipelineShape.http.after(.requestWritten) == .http)
        #expect(PipelineShape.sniffing.after(.requestWritten) == nil)
    }

    @Test func aSwitchedStreamNeverChangesAgain() {
        for shape in [PipelineShape.frames, .plain] {
            for event in Self.events {
                #expect(shape.after(event) == nil, "\(shape) after \(event)")
            }
        }
    }

    @Test func onlyTheRawShapeBypassesInspection() {
        let shapes: [PipelineShape] = [.sniffing, .raw, .http, .frames, .plain]
        #expect(shapes.filter(\.isRaw) == [.raw])
    }

    @Test func everyReachableShapeIsReachedOnlyThroughAllowedEvents() {
        // Walk every sequence of up to four events from each start: the shapes reached are exactly these.
        var reached: Set<String> = []
        func walk(_ shape: PipelineShape, depth: Int) {
            reached.insert(shape.description)
            guard depth < 4 else { return }
            for event in Self.events {
                if let next = shape.after(event) { walk(next, depth: depth + 1) }
            }
        }
        walk(.clientStart, depth: 0)
        walk(.serverStart, depth: 0)
        #expect(reached == ["sniffing", "raw", "HTTP", "frames", "plain bytes"])
    }

    @Test func aRefusedChangeNamesTheSideTheShapeAndTheEvent() {
        let error = PipelineShapeError(side: .client, shape: .http, event: .sniffed(isHTTP: false))
        #expect(error.description == "the client stream cannot follow 'sniffed non-HTTP' while it is inspected as HTTP")
    }
}
