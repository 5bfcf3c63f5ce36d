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

    private static func change(_ how: Int32, _ signals: [Signal]) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal.rawValue) }
        let result = pthread_sigmask(how, &set, nil)  // returns the error number, not -1
        if result != 0 { throw SystemError("pthread_sigmask", errno: Errno(result)) }
    }
}
