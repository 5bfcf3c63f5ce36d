#if canImport(Glibc)
import Glibc
#endif

/// The calling thread's signal mask (`pthread_sigmask`).
///
/// A daemon that takes signals through `SignalSource` (signalfd underneath, on Linux) must
/// block those signals in the main thread before it starts other threads: a process-directed
/// signal that some thread does not block is delivered to that thread, and with the
/// disposition "ignore" it is then lost instead of being read from the signalfd. Threads
/// inherit the mask of the thread that creates them; libdispatch's workers block all signals.
public enum SignalMask {
    /// Adds `signals` to the calling thread's blocked set.
    public static func block(_ signals: [Signal]) throws(SystemError) {
        try change(SIG_BLOCK, signals)
    }

    /// Removes `signals` from the calling thread's blocked set.
    public static func unblock(_ signals: [Signal]) throws(SystemError) {
        try change(SIG_UNBLOCK, signals)
    }

    /// Waits up to `timeout` seconds for one of `signals`, which the caller has blocked in
    /// every thread (`block`), and takes it (`sigtimedwait`): the signal, or nil when the time
    /// ran out. A pending one is taken at once; an interruption by another signal waits on for
    /// what is left of the time.
    public static func wait(for signals: [Signal], timeout: Double) throws(SystemError) -> Signal? {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal.rawValue) }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let deadline = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + max(0, timeout)
        while true {
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let left = max(0, deadline - (Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9))
            var wait = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
            let number = sigtimedwait(&set, nil, &wait)
            if number > 0 { return Signal(rawValue: number) }
            let error = errno
            if error == EAGAIN { return nil }
            if error != EINTR { throw SystemError("sigtimedwait", errno: Errno(error)) }
        }
    }

    private static func change(_ how: Int32, _ signals: [Signal]) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal.rawValue) }
        let result = pthread_sigmask(how, &set, nil)  // returns the error number, not -1
        if result != 0 { throw SystemError("pthread_sigmask", errno: Errno(result)) }
    }
}
