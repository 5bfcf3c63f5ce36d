import MassivaConfig
import MassivaDomain

/// The knobs of row processing, taken from the configuration.
public struct ProcessingPolicy: Sendable {
    public var maxRows: Int
    public var maxAttempts: Int
    public var backoff: Backoff
    /// A fraction in 0..<1 added to each backoff delay; tests set a fixed value.
    public var jitter: @Sendable () -> Double

    public init(maxRows: Int, maxAttempts: Int, backoff: Backoff, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<0.1) }) {
        self.maxRows = maxRows
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.jitter = jitter
    }

    public init(_ configuration: Configuration) {
        self.init(maxRows: configuration.maxRows, maxAttempts: configuration.maxAttempts,
                  backoff: Backoff(minimal: configuration.minimalBackoffTime, maximal: configuration.maximalBackoffTime))
    }
}
