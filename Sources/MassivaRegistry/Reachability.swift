/// How the embedded registry says a meter answers probes (`pods.csv`'s `reachability`).
public enum Reachability: Equatable, Sendable {
    case reachable, unreachable, flaky(Int)

    public init?(parsing text: String) {
        switch text {
        case "reachable": self = .reachable
        case "unreachable": self = .unreachable
        default:
            // Digits only: Int("+3") is 3, and "flaky:+3" is a typo, not a count.
            let digits = text.dropFirst(6)
            guard text.hasPrefix("flaky:"), !digits.isEmpty, digits.count <= 9, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(digits) else { return nil }
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
