import Dispatch

/// Where a part of massiva gets the time from: handed down, never read from the system.
///
/// The composition roots (`massiva`'s commands, the daemon's start) make `Clock.system` once and
/// pass it to everything below them (the engine, the daemon, the metrics writer, the outbox's
/// courier, the services); tests pass a fake one (`FakeClock` in MassivaTestSupport) that only
/// moves when the test moves it. So no result, retry or metric depends on the machine's date,
/// and a test runs the same with the clock years ahead (`scripts/test` checks that under
/// `faketime`).
///
/// Pure formatting of a given time (`SystemClock.iso8601(_:)`) needs no clock.
public struct Clock: Sendable {
    /// Reads the wall-clock time: seconds since the epoch, with fraction.
    public let readWall: @Sendable () -> Double
    /// Reads a time that never goes back, seconds since an arbitrary start: for intervals and
    /// rate limits, which a clock set back or forward must not stretch or shrink.
    public let readMonotonic: @Sendable () -> Double

    /// Runs work on a queue once `seconds` have passed on this clock's monotonic time.
    public let runAfter: @Sendable (_ seconds: Double, _ queue: DispatchQueue, _ work: @escaping @Sendable () -> Void) -> Void

    /// - Parameter after: how `after(_:on:_:)` waits; by default the system's timers
    ///   (`asyncAfter`), which a fake clock replaces with its own (run when the test moves it).
    public init(wall: @escaping @Sendable () -> Double, monotonic: @escaping @Sendable () -> Double,
                after: @escaping @Sendable (Double, DispatchQueue, @escaping @Sendable () -> Void) -> Void = Clock.dispatchAfter) {
        readWall = wall
        readMonotonic = monotonic
        runAfter = after
    }

    /// Runs `work` on `queue` once `seconds` have passed (at once, but never in the caller's
    /// thread, when `seconds` is 0 or less).
    public func after(_ seconds: Double, on queue: DispatchQueue, _ work: @escaping @Sendable () -> Void) {
        runAfter(seconds, queue, work)
    }

    /// The system's timers: `asyncAfter` on the queue.
    public static let dispatchAfter: @Sendable (Double, DispatchQueue, @escaping @Sendable () -> Void) -> Void = { seconds, queue, work in
        queue.asyncAfter(deadline: .now() + max(0, seconds), execute: work)
    }

    /// Wall-clock seconds since the epoch: what is stored, shown, and compared with files' times.
    public var now: Double { readWall() }

    /// Monotonic seconds (see `readMonotonic`).
    public var monotonic: Double { readMonotonic() }

    /// The system's clocks (`CLOCK_REALTIME`, `CLOCK_MONOTONIC`): made by the composition roots
    /// only.
    public static let system = Clock(wall: { SystemClock.now }, monotonic: { SystemClock.monotonic })
}
