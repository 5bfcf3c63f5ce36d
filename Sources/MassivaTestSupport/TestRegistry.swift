import Foundation
import MassivaRegistry

/// The test registry: a handful of PODs and devices with a known role each, plus a bank of
/// plain reachable PODs and acme devices for bulk files.
public enum TestRegistry {
    // Exchange PODs (M1).
    public static let ok1 = "IT001E00000001"
    public static let ok2 = "IT001E00000002"
    public static let gesis = "IT001E00000003"          // matricola with N as 6th character
    public static let ok4 = "IT001E00000004"
    public static let ok5 = "IT001E00000005"
    public static let ok6 = "IT001E00000006"
    public static let prosumer = "IT001E00000010"       // three production PODs, listed out of order
    public static let productions = ["IT001E00000013", "IT001E00000011B", "IT001E00000011A"]
    public static let firstProduction = "IT001E00000011A"
    public static let notTelemanaged = "IT001E00000020"
    public static let notEligible = "IT001E00000021"
    public static let neitherTelemanagedNorEligible = "IT001E00000022"
    public static let unreachable = "IT001E00000030"
    public static let flaky2 = "IT001E00000031"
    public static let flaky1 = "IT001E00000032"
    public static let unreachableNoProduction = "IT001E00000033"

    public static let gesisMatricola = "00331N89987487"

    /// Plain reachable exchange POD number `i` of the bank (0..<400).
    public static func bankPOD(_ i: Int) -> String { "IT001E" + String(10_000_000 + i) }
    /// acme's MOME number `i` of the bank (0..<400).
    public static func bankSID(_ i: Int) -> String { "16MOMSPC3" + String(10_000_000 + i) }
    public static let bankSize = 400

    // acme devices.
    public static func mome(_ i: Int) -> String { "16MOMSPC3" + String(format: "%08d", i) }      // 1...20
    public static func smartInfo(_ i: Int) -> String { "16SMISF81" + String(format: "%08d", i) } // 1...20
    // voltaic devices.
    public static let voltaic1 = "16SMISF8100000100"
    public static let voltaic2 = "16SMISF8100000101"

    /// 12 hex characters, unique per SID of this registry.
    public static func nid(of sid: String) -> String {
        (sid.hasPrefix("16MOM") ? "DC26" : "DC27") + sid.suffix(8)
    }

    public static func eneltel(of pod: String) -> String { String(100_000_000 + abs(pod.hashValueStable % 800_000_000)) }

    public struct PODLine {
        public var pod: String
        public var matricola: String
        public var meterType = "M1"
        public var exchange = ""
        public var telemanaged = true
        public var eligible = true
        public var reachability = "reachable"
    }

    public static var podLines: [PODLine] {
        var lines: [PODLine] = [
            PODLine(pod: ok1, matricola: "00331E90291065"),
            PODLine(pod: ok2, matricola: "EMH4M744053835"),
            PODLine(pod: gesis, matricola: gesisMatricola),
            PODLine(pod: ok4, matricola: "ABC12327884854"),
            PODLine(pod: ok5, matricola: "ABC12327884855"),
            PODLine(pod: ok6, matricola: "ABC12327884856"),
            PODLine(pod: prosumer, matricola: "ABC12327880010"),
            PODLine(pod: notTelemanaged, matricola: "ABC12327880020", telemanaged: false),
            PODLine(pod: notEligible, matricola: "ABC12327880021", eligible: false),
            PODLine(pod: neitherTelemanagedNorEligible, matricola: "ABC12327880022", telemanaged: false, eligible: false),
            PODLine(pod: unreachable, matricola: "ABC12327880030", reachability: "unreachable"),
            PODLine(pod: flaky2, matricola: "ABC12327880031", reachability: "flaky:2"),
            PODLine(pod: flaky1, matricola: "ABC12327880032", reachability: "flaky:1"),
            PODLine(pod: unreachableNoProduction, matricola: "ABC12327880033", reachability: "unreachable"),
        ]
        for p in productions {
            lines.append(PODLine(pod: p, matricola: "PRD" + p.suffix(9), meterType: "M2", exchange: prosumer))
        }
        for i in 0..<bankSize { lines.append(PODLine(pod: bankPOD(i), matricola: "BNK" + String(10_000_000_000 + i))) }
        return lines
    }

    public static var deviceLines: [(sid: String, type: String, owner: String)] {
        var lines: [(String, String, String)] = []
        for i in 1...20 { lines.append((mome(i), "MOME", "acme")) }
        for i in 1...20 { lines.append((smartInfo(i), "Smart Info", "acme")) }
        lines.append((voltaic1, "Smart Info", "voltaic"))
        lines.append((voltaic2, "Smart Info", "voltaic"))
        for i in 0..<bankSize { lines.append((bankSID(i), "MOME", "acme")) }
        return lines
    }

    /// Writes pods.csv and devices.csv into `directory`.
    public static func write(to directory: String) throws {
        var pods = RegistryImporter.podColumns.joined(separator: ",") + "\n"
        for p in podLines {
            pods += [p.pod, eneltel(of: p.pod), p.matricola, p.meterType, p.exchange, String(p.telemanaged), String(p.eligible),
                     p.reachability, "RSSMRA80A01H501U"].joined(separator: ",") + "\n"
        }
        var devices = RegistryImporter.deviceColumns.joined(separator: ",") + "\n"
        for d in deviceLines { devices += [d.sid, nid(of: d.sid), d.type, d.owner].joined(separator: ",") + "\n" }
        try pods.write(toFile: directory + "/pods.csv", atomically: false, encoding: .utf8)
        try devices.write(toFile: directory + "/devices.csv", atomically: false, encoding: .utf8)
    }

    public static func line(pod: String) -> PODLine? { podLines.first { $0.pod == pod } }
    public static func deviceType(of sid: String) -> String? { deviceLines.first { $0.sid == sid }?.type }
}

extension String {
    public func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
    /// A hash that does not change between runs (Swift's `hashValue` is seeded).
    public var hashValueStable: Int {
        var h: UInt64 = 1469598103934665603
        for b in utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return Int(h % 1_000_000_007)
    }
}
