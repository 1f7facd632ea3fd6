import SquallBenchmarks
import Testing

/// The hostile streams of `squall bench hostile` are reproducible from their seed and cover every kind and ending.
@Suite struct HostileStreamTests {
    private let upgrade = Array("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)

    @Test func theSameSeedAndIndexGiveTheSameStream() {
        for index in 0..<50 {
            let first = HostileStream.generate(seed: 9, index: index, upgrade: self.upgrade)
            #expect(first == HostileStream.generate(seed: 9, index: index, upgrade: self.upgrade))
        }
        let one = (0..<50).map { HostileStream.generate(seed: 9, index: $0, upgrade: self.upgrade) }
        let other = (0..<50).map { HostileStream.generate(seed: 10, index: $0, upgrade: self.upgrade) }
        #expect(one != other, "another seed gives other streams")
    }

    @Test func everyKindAndEveryEndingIsSent() {
        let streams = (0..<200).map { HostileStream.generate(seed: 1, index: $0, upgrade: self.upgrade) }
        #expect(Set(streams.map(\.kind)) == Set(HostileStream.Kind.allCases))
        #expect(Set(streams.map(\.ending)) == Set(HostileStream.Ending.allCases))
        #expect(streams.allSatisfy { !$0.writes.isEmpty && $0.writes.allSatisfy { !$0.isEmpty } })
    }

    @Test func pipelinedStreamsGoBeyondTheProxysFirstRead() {
        // The proxy's first read takes 2 048 bytes; the crash of issue 28 needed the rest to arrive while it
        // handled them.
        let sizes = (0..<400).map { HostileStream.generate(seed: 3, index: $0, upgrade: self.upgrade) }
            .filter { $0.kind == .pipelinedWithUpgrade }
            .map { $0.writes.reduce(0) { $0 + $1.count } }
        #expect(sizes.contains { $0 > 2_048 })
        #expect(sizes.contains { $0 < 2_048 })
    }

    @Test func upgradesAndInvalidFramesFollowTheRealUpgrade() {
        let streams = (0..<100).map { HostileStream.generate(seed: 4, index: $0, upgrade: self.upgrade) }
        let framed = streams.filter { $0.kind == .invalidFramesAfterUpgrade }
        #expect(!framed.isEmpty)
        #expect(framed.allSatisfy { $0.writes.first == self.upgrade && $0.writes.count == 2 })
        #expect(streams.filter { $0.kind == .slowBytes }.allSatisfy { $0.byteByByte })
    }
}
