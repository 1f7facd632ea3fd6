extension Duration {
    /// The duration in milliseconds, for the stream's keep-alive clock.
    var milliseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
