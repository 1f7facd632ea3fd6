import ArgumentParser
import Foundation
import SquallBenchmarks

/// `squall bench loss`: `tcp_loss` measured through a real proxy against its rule and the Mathis formula.
struct BenchLossCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Measure tcp_loss: transfer time and message stalls against its rule and the Mathis formula.",
        discussion: """
            For each loss rate, a transfer of --bytes through a proxy with tcp_loss (MSS 1448) into a sink that \
            answers at the end, and --messages one-byte round trips through an echo, each waiting for the last. \
            Prints the transfer time next to what the rule predicts (a segment lost k times stalls \
            200 ms × (2^k − 1), stalls in stream order), the throughput next to the Mathis et al. formula \
            (MSS/RTT × √1.5/√p) at RTTs of 50 and 200 ms, and how many messages took a retransmission. Build with \
            -c release. Exit codes: 0 measured, 64 usage.
            """
    )

    @Option(help: "Comma-separated loss rates.")
    var rates: String = "0.001,0.005,0.01,0.02"

    @Option(help: "Bytes per transfer.")
    var bytes: Int = 2_000_000

    @Option(help: "One-byte round trips per rate.")
    var messages: Int = 300

    func validate() throws {
        guard self.bytes > 0, self.messages > 0, !self.lossRates.isEmpty,
            self.lossRates.allSatisfy({ $0 >= 0 && $0 < 0.2 })
        else {
            throw ValidationError("--bytes and --messages must be positive and every rate in [0, 0.2)")
        }
    }

    private var lossRates: [Double] {
        self.rates.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() async throws {
        StandardOutput.useLineBuffering()
        let benchmark = LossBenchmark(lossRates: self.lossRates, bytes: self.bytes, messages: self.messages)
        let rows = try await benchmark.run { row in
            print("… loss \(row.lossRate): \(row.bytes) bytes in \(row.seconds) s")
        }
        print(LossBenchmark.table(rows))
    }
}
