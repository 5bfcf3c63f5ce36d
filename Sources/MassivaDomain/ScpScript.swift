// SCP/1: the configuration script generated for one association, loaded onto the device.
//
// UTF-8 text, one `key=value` line per field, each line ended by LF (no CR anywhere), keys in
// this fixed order, the value being everything after the first `=`:
//
//     format=SCP/1
//     request=<request id, e.g. MOME-000000031>
//     generated_at=<ISO 8601 with offset>
//     device_type=<MOME | Smart Info>
//     device_sid=<17-character SID>
//     device_nid=<12-hex-character NID>
//     configuration_type=<Standard | Prosumer>
//     configuration_model=<0x01 for Standard | 0x02 for Prosumer>
//     exchange_pod=<POD>
//     production_pod=<POD, empty for Standard>
//     meter_matricola=<matricola>
//     meter_eneltel=<Eneltel code>
//     gesis=<1 | 0>
//     crc32=<8 uppercase hex digits>
//
// `crc32` is the CRC-32 (IEEE 802.3, as zlib.crc32) of every byte before it: all the preceding
// lines, each with its LF. It is the last line and is itself ended by LF. The file is named
// `<SID>_<exchange POD>.scp`. The output is deterministic for the same inputs; only
// `generated_at` changes between two renderings of the same association.

/// One SCP/1 script: the configuration of one association.
public struct ScpScript: Sendable, Equatable {
    /// The format line's value; a parser refuses any other.
    public static let formatVersion = "SCP/1"

    /// The request that produced the association, e.g. `MOME-000000031`; any label for
    /// associations made outside a bulk request.
    public var requestID: String
    /// ISO 8601 with offset, chosen by the caller.
    public var generatedAt: String
    /// `MOME` or `Smart Info`.
    public var deviceType: String
    public var sid: String
    public var nid: String
    public var configurationType: ConfigurationType
    public var exchangePOD: String
    /// The production POD of a Prosumer association; nil for Standard.
    public var productionPOD: String?
    public var matricola: String
    public var eneltel: String
    /// The meter is a GESIS one: its readings need the K factor.
    public var gesis: Bool

    public init(requestID: String, generatedAt: String, deviceType: String, sid: String,
                nid: String, configurationType: ConfigurationType, exchangePOD: String,
                productionPOD: String?, matricola: String, eneltel: String, gesis: Bool) {
        self.requestID = requestID
        self.generatedAt = generatedAt
        self.deviceType = deviceType
        self.sid = sid
        self.nid = nid
        self.configurationType = configurationType
        self.exchangePOD = exchangePOD
        self.productionPOD = productionPOD
        self.matricola = matricola
        self.eneltel = eneltel
        self.gesis = gesis
    }

    /// `<SID>_<exchange POD>.scp`.
    public var fileName: String { "\(sid)_\(exchangePOD).scp" }

    /// `0x01` for Standard, `0x02` for Prosumer.
    public var configurationModel: String { configurationType.model }

    /// The script's bytes, or `unwritableValue` when a value cannot be written: one with a
    /// control character (a CR or LF would break the one-line-per-key format). Values come from
    /// the registry's master data and the database: an error here is the caller's to handle,
    /// never a crash.
    public func render() throws(ScpScriptError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(384)
        try ScpScript.line(&out, "format=", ScpScript.formatVersion, key: "format")
        try ScpScript.line(&out, "request=", requestID, key: "request")
        try ScpScript.line(&out, "generated_at=", generatedAt, key: "generated_at")
        try ScpScript.line(&out, "device_type=", deviceType, key: "device_type")
        try ScpScript.line(&out, "device_sid=", sid, key: "device_sid")
        try ScpScript.line(&out, "device_nid=", nid, key: "device_nid")
        try ScpScript.line(&out, "configuration_type=", configurationType.rawValue, key: "configuration_type")
        try ScpScript.line(&out, "configuration_model=", configurationModel, key: "configuration_model")
        try ScpScript.line(&out, "exchange_pod=", exchangePOD, key: "exchange_pod")
        try ScpScript.line(&out, "production_pod=", productionPOD ?? "", key: "production_pod")
        try ScpScript.line(&out, "meter_matricola=", matricola, key: "meter_matricola")
        try ScpScript.line(&out, "meter_eneltel=", eneltel, key: "meter_eneltel")
        try ScpScript.line(&out, "gesis=", gesis ? "1" : "0", key: "gesis")
        let crc = CRC32.checksum(out)
        out.append(contentsOf: "crc32=".utf8)
        ScpScript.appendHex(&out, crc)
        out.append(0x0A)
        return out
    }

    /// Whether the script can be rendered (see `render()`), without building it.
    public var unwritableKey: String? {
        do {
            _ = try render()
            return nil
        } catch {
            if case .unwritableValue(let key) = error { return key }
            return "?"
        }
    }

    private static func line(_ out: inout [UInt8], _ keyAndEquals: StaticString, _ value: String,
                             key: String) throws(ScpScriptError) {
        keyAndEquals.withUTF8Buffer { out.append(contentsOf: $0) }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }) {
            throw .unwritableValue(key: key)
        }
        out.append(contentsOf: value.utf8)
        out.append(0x0A)
    }

    private static func appendHex(_ out: inout [UInt8], _ value: UInt32) {
        let digits: StaticString = "0123456789ABCDEF"
        digits.withUTF8Buffer { hex in
            var shift: UInt32 = 28
            while true {
                out.append(hex[Int((value >> shift) & 0xF)])
                if shift == 0 { break }
                shift -= 4
            }
        }
    }

    // MARK: Parsing

    /// The keys of an SCP/1 script, in their fixed order (the final `crc32` excluded).
    public static let keys = [
        "format", "request", "generated_at", "device_type", "device_sid", "device_nid",
        "configuration_type", "configuration_model", "exchange_pod", "production_pod",
        "meter_matricola", "meter_eneltel", "gesis",
    ]

    /// Parses and verifies an SCP/1 script: UTF-8, LF line ends, the format version, the
    /// CRC-32, every key in its place, and the values whose form SCP/1 fixes
    /// (configuration type and model, production POD present exactly for Prosumer, gesis 0/1).
    public static func parse(_ bytes: [UInt8]) throws(ScpScriptError) -> ScpScript {
        guard !bytes.isEmpty else { throw .truncated }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .notUTF8 }
        guard !bytes.contains(0x0D) else { throw .carriageReturn }
        guard bytes.last == 0x0A else { throw .missingFinalNewline }

        // Lines without their LF; the final LF yields no extra line.
        let lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
            .dropLast().map { String(Substring($0)) }

        func split(_ line: String, number: Int) throws(ScpScriptError) -> (String, String) {
            guard let eq = line.firstIndex(of: "=") else { throw .malformedLine(line: number) }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }

        // The version first, so that a newer format is reported as such, not as a bad CRC.
        guard let first = lines.first else { throw .truncated }
        let (firstKey, version) = try split(first, number: 1)
        guard firstKey == "format" else {
            throw .unexpectedKey(line: 1, expected: "format", found: firstKey)
        }
        guard version == formatVersion else { throw .unsupportedFormat(version) }

        guard lines.count >= keys.count + 1 else { throw .truncated }
        guard lines.count == keys.count + 1 else { throw .trailingData }

        // The CRC line, and the CRC of everything before it.
        let crcLine = lines[keys.count]
        let (crcKey, crcText) = try split(crcLine, number: keys.count + 1)
        guard crcKey == "crc32" else {
            throw .unexpectedKey(line: keys.count + 1, expected: "crc32", found: crcKey)
        }
        guard crcText.utf8.count == 8,
              crcText.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }),
              let stated = UInt32(crcText, radix: 16)
        else { throw .invalidValue(key: "crc32", value: crcText) }
        let coveredCount = bytes.count - crcLine.utf8.count - 1
        let actual = CRC32.checksum(bytes[..<coveredCount])
        guard actual == stated else { throw .crcMismatch(stated: stated, computed: actual) }

        var values = [String]()
        values.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() {
            let (found, value) = try split(lines[index], number: index + 1)
            guard found == key else {
                throw .unexpectedKey(line: index + 1, expected: key, found: found)
            }
            values.append(value)
        }

        guard let configurationType = ConfigurationType(rawValue: values[6]) else {
            throw .invalidValue(key: "configuration_type", value: values[6])
        }
        guard values[7] == configurationType.model else {
            throw .invalidValue(key: "configuration_model", value: values[7])
        }
        let production = values[9]
        guard production.isEmpty == (configurationType == .standard) else {
            throw .invalidValue(key: "production_pod", value: production)
        }
        let gesis: Bool
        switch values[12] {
        case "1": gesis = true
        case "0": gesis = false
        default: throw .invalidValue(key: "gesis", value: values[12])
        }

        return ScpScript(requestID: values[1], generatedAt: values[2], deviceType: values[3],
                         sid: values[4], nid: values[5], configurationType: configurationType,
                         exchangePOD: values[8],
                         productionPOD: production.isEmpty ? nil : production,
                         matricola: values[10], eneltel: values[11], gesis: gesis)
    }
}

/// Why bytes are not a valid SCP/1 script.
public enum ScpScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    case notUTF8
    case carriageReturn
    case missingFinalNewline
    /// The first line is `format=` something other than `SCP/1`.
    case unsupportedFormat(String)
    /// Fewer lines than SCP/1 has.
    case truncated
    /// More lines than SCP/1 has.
    case trailingData
    /// A line (1-based) without `=`.
    case malformedLine(line: Int)
    case unexpectedKey(line: Int, expected: String, found: String)
    case invalidValue(key: String, value: String)
    case crcMismatch(stated: UInt32, computed: UInt32)
    /// Rendering: the value of `key` cannot be written (a control character, or a
    /// configuration type SCP/1 does not have).
    case unwritableValue(key: String)

    public var description: String {
        switch self {
        case .notUTF8: return "SCP: not UTF-8"
        case .carriageReturn: return "SCP: contains a carriage return (lines end with LF only)"
        case .missingFinalNewline: return "SCP: the last line is not ended by LF"
        case .unsupportedFormat(let v): return "SCP: unsupported format \"\(v)\" (expected SCP/1)"
        case .truncated: return "SCP: truncated"
        case .trailingData: return "SCP: lines after crc32"
        case .malformedLine(let n): return "SCP: line \(n) is not key=value"
        case .unexpectedKey(let n, let expected, let found):
            return "SCP: line \(n) has key \"\(found)\", expected \"\(expected)\""
        case .invalidValue(let key, let value): return "SCP: invalid \(key) \"\(value)\""
        case .crcMismatch(let stated, let computed):
            return "SCP: CRC mismatch (file says \(hex8(stated)), content has \(hex8(computed)))"
        case .unwritableValue(let key): return "SCP: the value of \(key) cannot be written (a control character)"
        }
    }
}

private func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: 8 - s.count) + s
}
