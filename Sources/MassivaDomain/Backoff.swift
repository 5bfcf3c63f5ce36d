/// When a row that failed transiently is tried again.
public struct Backoff: Sendable, Equatable {
    public var minimal: Double
    public var maximal: Double

    public init(minimal: Double, maximal: Double) {
        self.minimal = minimal
        self.maximal = maximal
    }

    /// Delay after the `attempt`-th attempt failed (1-based):
    /// `min(maximal, minimal × 2^(attempt−1))`, stretched by `jitter` (a fraction in 0..<1, e.g.
    /// 0.1 for up to 10 %) so that rows failing together do not all come back in the same second.
    public func delay(afterAttempt attempt: Int, jitter: Double = 0) -> Double {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        let base = min(maximal, minimal * pow2(exponent))
        return base * (1 + max(0, jitter))
    }

    private func pow2(_ e: Double) -> Double {
        var r = 1.0
        var i = 0.0
        while i < e { r *= 2; i += 1; if r > 1e18 { break } }
        return r
    }
}
