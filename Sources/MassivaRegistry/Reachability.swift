/// How the embedded registry says a meter answers probes (`pods.csv`'s `reachability`).
public enum Reachability: Equatable, Sendable {
    case reachable, unreachable, flaky(Int)

    public init?(parsing text: String) {
        switch text {
        case "reachable": self = .reachable
        case "unreachable": self = .unreachable
        default:
            guard text.hasPrefix("flaky:"), let n = Int(text.dropFirst(6)), n >= 0 else { return nil }
            self = .flaky(n)
        }
    }

    /// As written in pods.csv and stored.
    public var text: String {
        switch self {
        case .reachable: return "reachable"
        case .unreachable: return "unreachable"
        case .flaky(let n): return "flaky:\(n)"
        }
    }
}
