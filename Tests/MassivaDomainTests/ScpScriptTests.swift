import Testing
@testable import MassivaDomain

// The expected CRCs below were computed independently, with Python's zlib.crc32 over the
// literal texts, and pasted here.

@Suite struct CRC32Tests {
    @Test func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum("123456789") == 0xCBF4_3926)
    }

    @Test func emptyInput() {
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32().value == 0)
    }

    @Test func longInputExercisesTheEightByteLoop() {
        // zlib.crc32(bytes(range(256)) * 5) == 0x1E7A6D24
        var bytes = [UInt8]()
        for _ in 0..<5 { bytes += (0...255).map { UInt8($0) } }
        #expect(CRC32.checksum(bytes) == 0x1E7A_6D24)
        // Every split point gives the same value incrementally.
        for cut in [0, 1, 7, 8, 9, 333, 1279, 1280] {
            var crc = CRC32()
            crc.update(bytes[..<cut])
            crc.update(bytes[cut...])
            #expect(crc.value == 0x1E7A_6D24)
        }
    }

    @Test func utf8String() {
        // zlib.crc32("Società àè €".encode()) == 0x895B6736
        #expect(CRC32.checksum("Società àè €") == 0x895B_6736)
    }
}

@Suite struct GesisTests {
    @Test func sixthCharacterN() {
        #expect(isGesisMatricola("00331N12345678"))
        #expect(isGesisMatricola("ABCDEN"))
        #expect(!isGesisMatricola("ABC1234567890"))
        #expect(!isGesisMatricola("N0000000000000"))
        #expect(!isGesisMatricola("00331n12345678"))
        #expect(!isGesisMatricola("00331"))
        #expect(!isGesisMatricola(""))
        #expect(isGesisMatricola("àèìòùN1"))
        #expect(!isGesisMatricola("àèìòùX1"))
    }
}

@Suite struct ScpScriptTests {
    static let standard = ScpScript(
        requestID: "MOME-000000031", generatedAt: "2024-03-05T10:15:30+01:00",
        deviceType: "Smart Info", sid: "16SMISF8100001002", nid: "DC2620001A2B",
        configurationType: .standard, exchangePOD: "IT001E00000002", productionPOD: nil,
        matricola: "ABC1234567890", eneltel: "123456789", gesis: false)

    static let standardText = """
        format=SCP/1
        request=MOME-000000031
        generated_at=2024-03-05T10:15:30+01:00
        device_type=Smart Info
        device_sid=16SMISF8100001002
        device_nid=DC2620001A2B
        configuration_type=Standard
        configuration_model=0x01
        exchange_pod=IT001E00000002
        production_pod=
        meter_matricola=ABC1234567890
        meter_eneltel=123456789
        gesis=0
        crc32=696A9DD4

        """

    static let prosumer = ScpScript(
        requestID: "MOME-000000031", generatedAt: "2024-03-05T10:15:30+01:00",
        deviceType: "MOME", sid: "16MOMSPC300001811", nid: "DC2620001A2C",
        configurationType: .prosumer, exchangePOD: "IT001E00000001",
        productionPOD: "IT001E00000101",
        matricola: "00331N12345678", eneltel: "987654321", gesis: true)

    static let prosumerText = """
        format=SCP/1
        request=MOME-000000031
        generated_at=2024-03-05T10:15:30+01:00
        device_type=MOME
        device_sid=16MOMSPC300001811
        device_nid=DC2620001A2C
        configuration_type=Prosumer
        configuration_model=0x02
        exchange_pod=IT001E00000001
        production_pod=IT001E00000101
        meter_matricola=00331N12345678
        meter_eneltel=987654321
        gesis=1
        crc32=010A0ABB

        """

    @Test func rendersStandardExactly() throws {
        #expect(String(decoding: try Self.standard.render(), as: UTF8.self) == Self.standardText)
        #expect(try Self.standard.render() == Array(Self.standardText.utf8))
        #expect(Self.standard.fileName == "16SMISF8100001002_IT001E00000002.scp")
    }

    @Test func rendersProsumerExactly() throws {
        #expect(String(decoding: try Self.prosumer.render(), as: UTF8.self) == Self.prosumerText)
        #expect(Self.prosumer.fileName == "16MOMSPC300001811_IT001E00000001.scp")
    }

    @Test func deterministicApartFromGenerationTime() throws {
        var later = Self.prosumer
        #expect(try later.render() == Self.prosumer.render())
        later.generatedAt = "2024-03-06T00:00:00+01:00"
        let a = try Self.prosumer.render(), b = try later.render()
        #expect(a != b)
        // Only the generated_at line and the CRC line differ.
        let la = String(decoding: a, as: UTF8.self).split(separator: "\n")
        let lb = String(decoding: b, as: UTF8.self).split(separator: "\n")
        let differing = zip(la, lb).enumerated().filter { $0.element.0 != $0.element.1 }
            .map(\.offset)
        #expect(differing == [2, 13])
    }

    @Test func parseRoundTrip() throws {
        #expect(try ScpScript.parse(Self.standard.render()) == Self.standard)
        #expect(try ScpScript.parse(Self.prosumer.render()) == Self.prosumer)
        #expect(try ScpScript.parse(Array(Self.prosumerText.utf8)) == Self.prosumer)
        // A value containing '=' survives: the value is everything after the first '='.
        var odd = Self.standard
        odd.requestID = "SINGOLA=1 àè"
        #expect(try ScpScript.parse(odd.render()) == odd)
    }

    @Test func tamperedByteIsACRCError() throws {
        var bytes = Array(Self.standardText.utf8)
        // "IT001E00000002" → "IT001E00000003" on the exchange_pod line.
        let needle = Array("exchange_pod=IT001E00000002\n".utf8)
        let start = (0...(bytes.count - needle.count)).first {
            Array(bytes[$0..<($0 + needle.count)]) == needle
        }!
        let offset = start + needle.count - 2
        bytes[offset] = UInt8(ascii: "3")
        #expect(throws: ScpScriptError.crcMismatch(stated: 0x696A_9DD4,
                                                   computed: CRC32.checksum(bytes[..<(bytes.count - 15)]))) {
            try ScpScript.parse(bytes)
        }
        // Any single-bit flip anywhere before the CRC line is caught.
        let good = try Self.prosumer.render()
        let crcLineLength = "crc32=010A0ABB\n".utf8.count
        for i in 0..<(good.count - crcLineLength) {
            var bad = good
            bad[i] ^= 0x01
            #expect(throws: ScpScriptError.self) { try ScpScript.parse(bad) }
        }
    }

    @Test func wrongFormatVersionIsRefused() {
        // SCP/2 with a correct CRC: still refused, as an unsupported version.
        var lines = Self.standardText.split(separator: "\n").map(String.init)
        lines[0] = "format=SCP/2"
        lines.removeLast()
        var body = lines.joined(separator: "\n") + "\n"
        body += "crc32=" + hex(CRC32.checksum(body)) + "\n"
        #expect(throws: ScpScriptError.unsupportedFormat("SCP/2")) {
            try ScpScript.parse(Array(body.utf8))
        }
    }

    @Test func otherMalformations() throws {
        let good = Array(Self.standardText.utf8)
        #expect(throws: ScpScriptError.missingFinalNewline) {
            try ScpScript.parse(Array(good.dropLast()))
        }
        #expect(throws: ScpScriptError.carriageReturn) {
            let crlf = Self.standardText.replacingOccurrences("\n", "\r\n")
            return try ScpScript.parse(Array(crlf.utf8))
        }
        #expect(throws: ScpScriptError.notUTF8) { try ScpScript.parse([0xFF] + good) }
        #expect(throws: ScpScriptError.truncated) { try ScpScript.parse([]) }
        #expect(throws: ScpScriptError.trailingData) { try ScpScript.parse(good + Array("x=1\n".utf8)) }
        #expect(throws: ScpScriptError.self) {
            try ScpScript.parse(Array(Self.standardText.replacingOccurrences("crc32=696A9DD4", "crc32=696a9dd4").utf8))
        }
        // Prosumer without production POD, re-signed: refused on its value.
        var noProduction = Self.prosumer
        noProduction.productionPOD = nil
        #expect(throws: ScpScriptError.invalidValue(key: "production_pod", value: "")) {
            try ScpScript.parse(noProduction.render())
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: 8 - s.count) + s
}

private extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

@Suite struct ScpScriptRenderingTests {
    /// Master data with a line break used to trip a precondition (SIGILL) after the association
    /// was committed: every later run crashed the same way. A value that cannot be written is an
    /// error the caller handles.
    @Test(arguments: ["0033\n1N123", "0033\r1N", "00\u{0}33", "x\u{85}y"])
    func aValueThatCannotBeWrittenIsAnErrorNotACrash(matricola: String) {
        var script = ScpScriptTests.prosumer
        script.matricola = matricola
        #expect(throws: ScpScriptError.unwritableValue(key: "meter_matricola")) { try script.render() }
        #expect(script.unwritableKey == "meter_matricola")
        #expect(ScpScriptTests.standard.unwritableKey == nil)
    }
}
