import Dispatch
import MassivaSystem
import Synchronization

/// A clock that only moves when a test moves it, for the tests of every module.
///
/// Its wall time starts where the test says (a fixed date, so no outcome depends on the day the
/// tests run); its monotonic time starts at 0 and moves with `advance(by:)` only (`set(_:)` is a
/// wall clock set forward or back, which a monotonic clock does not see). Work the code under
/// test asks to run later (`Clock.after`) waits until the test moves the clock past its time,
/// and then runs on its queue while the test waits: a test never sleeps to let a timer fire.
/// Thread-safe: the engine's threads (results, lists, the outbox's courier) read it while the
/// test moves it.
public final class FakeClock: Sendable {
    private struct Timer {
        var due: Double
        var order: Int
        var queue: DispatchQueue
        var work: @Sendable () -> Void
    }
    private struct State {
        var wall: Double
        var monotonic: Double
        var timers: [Timer] = []
        var made = 0
    }
    private let state: Mutex<State>

    /// A clock reading `start` seconds since the epoch, its monotonic time at `monotonic`.
    public init(_ start: Double, monotonic: Double = 0) {
        state = Mutex(State(wall: start, monotonic: monotonic))
    }

    /// The wall time.
    public var now: Double { state.withLock { $0.wall } }

    /// The monotonic time.
    public var monotonic: Double { state.withLock { $0.monotonic } }

    /// How many pieces of work wait for the clock to reach their time.
    public var pendingTimers: Int { state.withLock { $0.timers.count } }

    /// Moves both times `seconds` on (time passing), stopping at each piece of work that falls
    /// due on the way to run it (in the order of their times, then of their asking), each on its
    /// queue while this waits. Work that falls due is run even for `advance(by: 0)`.
    public func advance(by seconds: Double) {
        let target = monotonic + max(0, seconds)
        while true {
            let next = state.withLock { s -> Timer? in
                guard let index = s.timers.indices.filter({ s.timers[$0].due <= target })
                    .min(by: { (s.timers[$0].due, s.timers[$0].order) < (s.timers[$1].due, s.timers[$1].order) })
                else {
                    s.wall += target - s.monotonic
                    s.monotonic = target
                    return nil
                }
                let timer = s.timers.remove(at: index)
                if timer.due > s.monotonic {
                    s.wall += timer.due - s.monotonic
                    s.monotonic = timer.due
                }
                return timer
            }
            guard let next else { return }
            next.queue.sync(execute: next.work)
        }
    }

    /// Sets the wall time (the clock set forward or back); the monotonic time stays.
    public func set(_ seconds: Double) { state.withLock { $0.wall = seconds } }

    /// This clock as the `Clock` the code under test takes.
    public var clock: Clock {
        Clock(wall: { self.now }, monotonic: { self.monotonic }, after: { seconds, queue, work in
            self.state.withLock { s in
                s.made += 1
                s.timers.append(Timer(due: s.monotonic + max(0, seconds), order: s.made, queue: queue, work: work))
            }
        })
    }

    /// The wall time as the closure the engine takes.
    public var wall: @Sendable () -> Double { { self.now } }
}
