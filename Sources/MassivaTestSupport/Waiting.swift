#if canImport(Glibc)
import Glibc
#endif
import MassivaSystem

// Waiting for something another process or thread does (a file appears, a process ends, a log
// line is written), instead of sleeping a fixed time and hoping it happened: a test waits only as
// long as the machine needs. The deadline is a guard against a hang, not a speed target, so it
// is generous; a test that finds the condition false at the deadline fails on its expectation.

/// Checks `condition` every `interval` seconds until it holds (true) or `timeout` seconds pass
/// on the monotonic clock (then its last answer).
@discardableResult
public func waitUntil(timeout: Double = 60, every interval: Double = 0.01,
                      _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = SystemClock.monotonic + timeout
    while SystemClock.monotonic < deadline {
        if try condition() { return true }
        usleep(useconds_t(max(0.001, interval) * 1_000_000))
    }
    return try condition()
}

/// Async variant of `waitUntil`: suspends between checks instead of blocking the thread.
public func eventually(within timeout: Double = 60, every interval: Double = 0.01,
                       _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = SystemClock.monotonic + timeout
    while SystemClock.monotonic < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: UInt64(max(0.001, interval) * 1e9))
    }
    return try condition()
}
