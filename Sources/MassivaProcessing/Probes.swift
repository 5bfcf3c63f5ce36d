import MassivaConfig
import MassivaRegistry
import MassivaSystem

/// `probe_command`, the DSO's own program asked whether a meter answers now (as Postfix's
/// `pipe(8)` runs a configured program): exit 0 reachable; 1 unreachable; 75 (EX_TEMPFAIL) the
/// back end itself is down; any other status, a signal, or a program that cannot be started is
/// the back end's failure too (logged with its output), so a broken script never spends the
/// SIs' attempts. Still running after `probe_timeout`: killed, and the meter counts as
/// unreachable. Its output (stdout and stderr, the first 2 KiB) goes to the log.
public struct CommandProbe: Sendable {
    public let template: CommandTemplate
    public let timeout: Double
    public let log: EventLog
    /// How much of a probe's output is kept for the log.
    public static let outputLimit = 2048

    public init(template: CommandTemplate, timeout: Double, log: EventLog) {
        self.template = template
        self.timeout = timeout
        self.log = log
    }

    /// The probe for a configuration, or nil when it sets no `probe_command`.
    public init?(_ configuration: Configuration, log: EventLog) {
        guard let template = configuration.probeCommand else { return nil }
        self.init(template: template, timeout: configuration.probeTimeout, log: log)
    }

    /// Runs the command for `target` and reads its answer. Blocks until it ends (or is killed).
    public func ask(_ target: ProbeTarget, cancellation: ChildProcess.Cancellation? = nil) -> ProbeAnswer {
        let arguments = template.arguments(["pod": target.pod, "tenant": target.tenant, "sid": target.sid,
                                            "request": target.request])
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(arguments, timeout: timeout, outputLimit: Self.outputLimit, cancellation: cancellation)
        } catch {
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "error": "\(error)"])
            return .backEndDown("probe_command cannot be started: \(error)")
        }
        let output = outcome.outputText
        switch outcome.termination {
        case .exited(0), .exited(1):
            if !output.isEmpty {
                log.log("probe", ["pod": target.pod, "request": target.request,
                                  "status": outcome.termination == .exited(0) ? "0" : "1", "output": output])
            }
            return outcome.termination == .exited(0) ? .reachable : .unreachable
        case .exited(75):
            log.log("probe_tempfail", ["pod": target.pod, "request": target.request, "status": "75", "output": output])
            return .backEndDown("probe_command exited 75 (EX_TEMPFAIL): \(output)")
        case .exited(let status):
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "status": String(status), "output": output])
            return .backEndDown("probe_command exited \(status): \(output)")
        case .signalled(let signal):
            log.log("probe_failed", ["pod": target.pod, "request": target.request, "signal": String(signal), "output": output])
            return .backEndDown("probe_command killed by signal \(signal)")
        case .timedOut:
            log.log("probe_timeout", ["pod": target.pod, "request": target.request,
                                      "timeout": DurationSyntax.format(timeout), "output": output])
            return .unreachable
        case .cancelled:
            return .cancelled
        }
    }

    /// A row processor's probe that runs the command there and then, in the caller's thread:
    /// for the single services (one probe each), not for bulk passes.
    public func synchronous(tenant: String, sid: String, request: String) -> RowProcessor.Probe {
        { pod in try Self.decide(ask(ProbeTarget(pod: pod, tenant: tenant, sid: sid, request: request)), pod: pod) }
    }

    /// An answer as check 15 takes it: true, false, or an error (an outage, or no answer).
    public static func decide(_ answer: ProbeAnswer?, pod: String) throws -> Bool {
        switch answer {
        case .reachable: return true
        case .unreachable: return false
        case .backEndDown(let message): throw RegistryError.unavailable(message)
        case .cancelled: throw ProbeNotAnswered(pod: pod, stopping: true)
        case nil: throw ProbeNotAnswered(pod: pod, stopping: false)
        }
    }
}
