import Dispatch
import Synchronization

/// "At most one pending": work asked for on a serial queue any number of times while a run is
/// pending starts that one run. The run lowers the signal as it begins, so whatever is asked
/// for while it runs starts the next run: nothing asked for is missed, and a caller that asks
/// at every step (the engine, once per group of requests) costs one atomic operation.
///
/// Used by the result pipeline, the list writer and the outbox courier (each had its own copy).
final class CoalescingSignal: Sendable {
    private let pending = Atomic<Bool>(false)

    init() {}

    /// True for the one caller that must start a run: none was pending.
    func raise() -> Bool {
        pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    /// Called by the run as it begins: the next `raise` starts another.
    func lower() {
        pending.store(false, ordering: .releasing)
    }

    /// Runs `body` on `queue` soon, unless a run is already pending there.
    func schedule(on queue: DispatchQueue, _ body: @escaping @Sendable () -> Void) {
        guard raise() else { return }
        queue.async { [self] in
            lower()
            body()
        }
    }
}
