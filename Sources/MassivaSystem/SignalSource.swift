#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// A POSIX signal number.
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw signal number.
    public let rawValue: Int32
    /// Wraps a raw signal number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `SIGHUP`: reload configuration.
    public static let hangup = Signal(rawValue: SIGHUP)
    /// `SIGINT`: interrupt from the terminal.
    public static let interrupt = Signal(rawValue: SIGINT)
    /// `SIGTERM`: terminate (systemd's stop).
    public static let terminate = Signal(rawValue: SIGTERM)
    /// `SIGUSR1`: user-defined.
    public static let user1 = Signal(rawValue: SIGUSR1)
    /// `SIGUSR2`: user-defined.
    public static let user2 = Signal(rawValue: SIGUSR2)
    /// `SIGPIPE`: write to a pipe or socket with no reader.
    public static let brokenPipe = Signal(rawValue: SIGPIPE)

    /// The conventional name, e.g. `SIGTERM`.
    public var description: String {
        switch rawValue {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        case SIGPIPE: return "SIGPIPE"
        default: return "signal \(rawValue)"
        }
    }

    /// Sets the disposition of this signal to "ignore" (`signal(sig, SIG_IGN)`).
    public func ignore() {
        _ = Glibc.signal(rawValue, SIG_IGN)
    }

    /// Ignores `SIGPIPE`, so writing to a closed pipe or socket fails with `EPIPE` instead
    /// of killing the process.
    public static func ignoreBrokenPipe() {
        Signal.brokenPipe.ignore()
    }

    /// Sends this signal to the current process (`kill(getpid(), sig)`).
    public func sendToCurrentProcess() throws(SystemError) {
        try SystemError.check("kill") { kill(getpid(), rawValue) }
    }
}

/// Delivers signals as callbacks on a dispatch queue, instead of in a signal handler.
///
/// For each signal: `signal(sig, SIG_IGN)` (so the default action, e.g. termination, never
/// runs), then a `DispatchSource.makeSignalSource`, resumed. The handler runs on `queue`
/// with the signal; several deliveries before it runs may coalesce into one call.
/// Call `cancel()` to stop; the dispositions stay "ignore".
public final class SignalSource: @unchecked Sendable {
    // Immutable after init; DispatchSource methods are thread-safe.
    private let sources: [DispatchSourceSignal]

    /// Starts handling `signals`, calling `handler` on `queue` for each delivery.
    ///
    /// - Parameter ignoringDefaultAction: set the disposition to "ignore" first (the default).
    ///   Pass false when the caller blocked `signals` in every thread beforehand (`SignalMask`):
    ///   then a signal that arrived before this call stays pending and is delivered here,
    ///   whereas setting "ignore" would discard it.
    public init(signals: [Signal], queue: DispatchQueue, ignoringDefaultAction: Bool = true,
                handler: @escaping @Sendable (Signal) -> Void) {
        var sources: [DispatchSourceSignal] = []
        for signal in signals {
            if ignoringDefaultAction { signal.ignore() }
            let source = DispatchSource.makeSignalSource(signal: signal.rawValue, queue: queue)
            source.setEventHandler { handler(signal) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// Stops delivering (idempotent).
    public func cancel() {
        for source in sources where !source.isCancelled { source.cancel() }
    }

    deinit {
        cancel()
    }
}
