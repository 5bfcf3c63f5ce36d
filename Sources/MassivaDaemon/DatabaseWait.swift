#if canImport(Glibc)
import Glibc
#endif
import MassivaConfig
import MassivaDatabase
import MassivaSystem

/// `massiva serve` while its database cannot be reached: a PostgreSQL server not up yet at boot,
/// restarting, out of reach, or a URI that names no database it can open. A command exits 2 on
/// it; the daemon waits instead and starts as usual once the database answers, so that systemd
/// sees no crash loop.
///
/// Each failure is logged (`database_unavailable database=... error=<libpq's message>
/// retry_in=...`) and said in systemd's status, and the next try comes after 1 s, doubling up
/// to 60 s. Not the `outage_*_backoff_time` settings: those are the registry's, and their
/// ceiling (5 minutes by default) would leave a spool idle that long after its database came
/// back at boot. `READY=1` goes with the first status: under `Type=notify` a start that never
/// said it is ready would be killed at `TimeoutStartSec` and restarted, the loop this avoids;
/// the watchdog, which runs from then on, gets its pings while the daemon waits.
///
/// The daemon's signals are blocked in every thread by then (`Daemon.blockSignals`) and are
/// taken here with `sigtimedwait`: SIGTERM or SIGINT ends the wait at once (and the daemon,
/// with status 0); SIGHUP reads massiva.cf again (`reload`) and tries again now, so an operator
/// who corrects a wrong `database` line needs no restart.
public struct DatabaseWait {
    /// The first pause after a failure, doubled after each next one up to `longestDelay`.
    public static let firstDelay: Double = 1
    public static let longestDelay: Double = 60

    private(set) var database: DatabaseLocation
    let log: EventLog
    let notifier: SystemdNotifier
    /// Reads the configuration again and says which database it names now (SIGHUP).
    let reload: (() throws -> DatabaseLocation)?

    /// - Parameters:
    ///   - database: the configured database, as the log and the status name it (without a
    ///     password).
    ///   - reload: reads massiva.cf again and returns its database; what `run`'s body opens
    ///     next must be that one. A failure is logged (`reload_failed`) and the wait goes on
    ///     with what it had.
    public init(database: DatabaseLocation, log: EventLog, notifier: SystemdNotifier = SystemdNotifier(),
                reload: (() throws -> DatabaseLocation)? = nil) {
        self.database = database
        self.log = log
        self.notifier = notifier
        self.reload = reload
    }

    /// Runs `body` until it does not fail for want of the database (`isUnavailability`), and
    /// returns what it returned; nil when SIGTERM or SIGINT came while waiting (logged as a stop
    /// of the daemon is). Any other error of `body` is thrown.
    public mutating func run<Value>(_ body: () throws -> Value) throws -> Value? {
        var delay = Self.firstDelay
        var waited = false
        while true {
            let failure: String
            do {
                let value = try body()
                if waited { log.log("database_available", ["database": database.description]) }
                return value
            } catch {
                guard let message = Self.unavailability(error) else { throw error }
                failure = message
            }
            let retryIn = DurationSyntax.format(delay)
            log.log("database_unavailable", ["database": database.description, "error": failure, "retry_in": retryIn])
            let status = "waiting for the database \(database): \(failure); next try in \(retryIn)"
            _ = try? (waited ? notifier.status(status) : notifier.ready(status: status))
            waited = true
            switch try pause(delay) {
            case .hangup?:
                reloadConfiguration()
                delay = Self.firstDelay
            case let signal?:
                log.log("stopping", ["reason": signal.description])
                _ = try? notifier.stopping()
                log.log("stopped", [:])
                return nil
            case nil:
                delay = min(Self.longestDelay, delay * 2)
            }
        }
    }

    /// What says the database is out of reach in `error`: libpq's message when it could not be
    /// opened (`DatabaseUnavailableError`), the error when an open connection was lost meanwhile
    /// (a connection after the first); nil for any other error.
    public static func unavailability(_ error: any Error) -> String? {
        if let error = error as? DatabaseUnavailableError { return error.message }
        if let error = error as? DatabaseError, error.isConnectionLost { return "\(error)" }
        return nil
    }

    /// SIGHUP: massiva.cf read again; its database is the one tried next.
    private mutating func reloadConfiguration() {
        guard let reload else { return }
        do {
            let now = try reload()
            log.log("reloaded", now == database ? [:] : ["database": now.description])
            database = now
        } catch {
            log.log("reload_failed", ["error": "\(error)"])
        }
    }

    /// Waits `seconds`, pinging the watchdog at half its interval; returns the signal that came
    /// (SIGTERM, SIGINT or SIGHUP: at once), nil when the time ran out.
    private func pause(_ seconds: Double) throws -> Signal? {
        var ts = timespec()
        func now() -> Double {
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let deadline = now() + seconds
        while true {
            _ = try? notifier.watchdog()
            let left = deadline - now()
            if left <= 0 { return nil }
            let slice = notifier.watchdogInterval.map { min(left, $0 / 2) } ?? left
            switch try SignalMask.wait(for: Daemon.signals, timeout: slice) {
            case nil: continue
            case let signal?: return signal
            }
        }
    }
}
