/// Shape checks for the identifiers of the domain: POD, SID, NID.
///
/// Values reach these functions already trimmed and ASCII-upper-cased (see `RequestFile`).
public enum Identifiers {
    /// Longest POD the portal accepts.
    public static let maxPODLength = 15

    /// `IT` + 3-digit distributor + `E` + 8 digits, optionally one more letter or digit.
    public static func isValidPOD(_ pod: String) -> Bool {
        let b = Array(pod.utf8)
        guard b.count == 14 || b.count == 15 else { return false }
        guard b[0] == UInt8(ascii: "I"), b[1] == UInt8(ascii: "T"), b[5] == UInt8(ascii: "E") else { return false }
        for i in [2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13] where !isDigit(b[i]) { return false }
        if b.count == 15 && !(isDigit(b[14]) || isUpper(b[14])) { return false }
        return true
    }

    /// Exactly 17 letters or digits: the SID a bulk file must carry.
    public static func isValidSID(_ sid: String) -> Bool {
        let b = Array(sid.utf8)
        return b.count == 17 && b.allSatisfy { isDigit($0) || isUpper($0) || isLower($0) }
    }

    /// 12 hexadecimal characters: a NID, which the bulk file must not carry.
    public static func isNID(_ value: String) -> Bool {
        let b = Array(value.utf8)
        return b.count == 12 && b.allSatisfy { isDigit($0) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The device family, characters 3–5 of the SID (`MOM`, `SMI`).
    public static func family(ofSID sid: String) -> String {
        let b = Array(sid.utf8)
        guard b.count >= 5 else { return "" }
        return String(decoding: b[2..<5], as: UTF8.self)
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }
}
