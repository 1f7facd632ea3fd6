import SquallFaults

extension Gate {
    /// What a gate computes from some of its metric's samples: the value, and for a window gate where the worst
    /// window began.
    public struct Evaluation: Sendable, Hashable {
        /// The value compared against the threshold; nil without samples.
        public var value: Double?
        /// For a window gate, when its worst window began (log time, ms since the epoch).
        public var windowStart: Double?
    }

    /// Computes the gate's value from `observations`: over the whole run, or for a `{window:…}` gate the worst
    /// window of that length — the one that fails by the most, or when none fails the one closest to failing.
    ///
    /// Windows are half open, a full `window` long and inside the run; those judged begin at a sample or end just
    /// after one (every distinct set of samples a window can hold is bounded by one of them on one side), and a
    /// window without samples is not judged.
    public func evaluate(_ observations: [Observation], in metrics: RunMetrics) -> Evaluation {
        guard let window = self.window else {
            return Evaluation(value: metrics.value(of: observations, self.metric, self.aggregation))
        }
        guard !observations.isEmpty else {
            return Evaluation(value: metrics.value(of: [], self.metric, self.aggregation))
        }
        let length = metrics.clock.played(milliseconds: window.milliseconds)
        let sorted = observations.sorted { $0.start < $1.start }
        let times = sorted.map(\.start)
        var sums = [0.0]
        sums.reserveCapacity(sorted.count + 1)
        for observation in sorted { sums.append(sums.last! + observation.value) }
        func value(_ from: Int, _ to: Int) -> Double {
            let total = sums[to] - sums[from]
            return self.metric.kind == .rate ? total / Double(to - from) : total
        }
        var worst: (value: Double, start: Double, samples: Int)?
        func consider(_ candidate: Double, _ start: Double, samples: Int) {
            guard let current = worst else {
                worst = (candidate, start, samples)
                return
            }
            // Of equally bad windows, the one with the most samples: the bunch of failures, not one of them.
            if self.isWorse(candidate, than: current.value)
                || (candidate == current.value && samples > current.samples)
            {
                worst = (candidate, start, samples)
            }
        }
        // Every window is a full `length` inside the run (a run shorter than one window is one window), half open:
        // [start, start + length). Candidates begin at a sample, or end just after one.
        let runStart = metrics.startedAt
        let runEnd = max(
            runStart + length,
            metrics.startedAt + metrics.clock.played(milliseconds: metrics.durationMilliseconds)
        )
        var starts = Set<Double>()
        for time in times {
            starts.insert(min(max(runStart, time), runEnd - length))
            starts.insert(min(max(runStart, time - length).nextUp, runEnd - length))
        }
        var first = 0
        var last = 0
        for start in starts.sorted() {
            while first < times.count, times[first] < start { first += 1 }
            last = max(last, first)
            while last < times.count, times[last] < start + length { last += 1 }
            if last > first { consider(value(first, last), start, samples: last - first) }
        }
        return Evaluation(value: worst?.value, windowStart: worst?.start)
    }

    /// Whether `candidate` is a worse window value than `current`: failing beats passing; among failing values the
    /// one farther from the threshold, among passing ones the one closer to it.
    private func isWorse(_ candidate: Double, than current: Double) -> Bool {
        let candidateFails = !self.comparison.holds(candidate, self.threshold)
        let currentFails = !self.comparison.holds(current, self.threshold)
        if candidateFails != currentFails { return candidateFails }
        let candidateDistance = abs(candidate - self.threshold)
        let currentDistance = abs(current - self.threshold)
        return candidateFails ? candidateDistance > currentDistance : candidateDistance < currentDistance
    }
}
