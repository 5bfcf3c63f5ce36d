import Testing
@testable import MassivaCSV

@Suite("Encodings")
struct EncodingTests {
    @Test func plainUTF8() throws {
        let document = try read("Società;€ 10\n")
        #expect(document.encoding == .utf8)
        #expect(document.rows == [["Società", "€ 10"]])
    }

    @Test func byteOrderMarkIsDroppedAndReported() throws {
        let document = try CSVReader.read(TextDecoding.bom + Array("POD;Città\r\nIT001;Forlì\r\n".utf8))
        #expect(document.encoding == .utf8WithBOM)
        #expect(document.rows == [["POD", "Città"], ["IT001", "Forlì"]])
        #expect(document.lines == [1, 2])
        // Only one mark is dropped: a second one is content.
        #expect(try CSVReader.read(TextDecoding.bom + TextDecoding.bom + Array("a".utf8)).rows == [["\u{FEFF}a"]])
        #expect(try CSVReader.read(TextDecoding.bom).records.isEmpty)
    }

    @Test func windows1252Italian() throws {
        // "Società;€ 10;perché" as Italian Excel saves it.
        let document = try CSVReader.read(bytes("Societ|;| 10;perch|\r\n", 0xE0, 0x80, 0xE9))
        #expect(document.encoding == .windows1252)
        #expect(document.rows == [["Società", "€ 10", "perché"]])
    }

    @Test func windows1252HighControlRange() throws {
        let defined: [UInt8] = (0x80...0x9F).filter { ![0x81, 0x8D, 0x8F, 0x90, 0x9D].contains($0) }
        let document = try CSVReader.read(defined)
        #expect(document.encoding == .windows1252)
        #expect(document.rows == [["€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"]])
    }

    @Test func windows1252UpperHalfIsLatin1() throws {
        let upper = Array(UInt8(0xA0)...UInt8(0xFF))
        let document = try CSVReader.read(upper)
        #expect(document.encoding == .windows1252)
        let expected = String(String.UnicodeScalarView(upper.map { Unicode.Scalar($0) }))
        #expect(document.rows == [[expected]])
    }

    @Test func invalidUTF8FallsBackToWindows1252ForTheWholeFile() throws {
        // Line 1 is valid UTF-8 ("Ã ", i.e. C3 A0), but line 2 is not, so the whole file is 1252.
        let document = try CSVReader.read(bytes("Societ||;x\nperch|;y\n", 0xC3, 0xA0, 0xE8))
        #expect(document.encoding == .windows1252)
        #expect(document.rows == [["SocietÃ\u{A0}", "x"], ["perchè", "y"]])
        // A UTF-8 sequence cut short at the end of the file, an overlong form, a surrogate.
        #expect(try CSVReader.read(bytes("caf|", 0xC3)).rows == [["cafÃ"]])
        #expect(try CSVReader.read(bytes("||", 0xC0, 0xAF)).rows == [["À¯"]])
        #expect(try CSVReader.read(bytes("|||", 0xED, 0xA0, 0x80)).encoding == .windows1252)
    }

    @Test func undefinedWindows1252BytesAreUndecodable() {
        for byte: UInt8 in [0x81, 0x8D, 0x8F, 0x90, 0x9D] {
            #expect(throws: CSVError.undecodable(line: 3), "byte \(byte)") {
                try CSVReader.read(bytes("a;b\r\n\r\nc|;d\r\n", byte))
            }
        }
    }

    @Test func invalidUTF8AfterAByteOrderMarkIsUndecodable() {
        #expect(throws: CSVError.undecodable(line: 2)) {
            try CSVReader.read(TextDecoding.bom + bytes("a\nperch|\n", 0xE8))
        }
    }

    @Test func utf8Validation() {
        func firstInvalid(_ input: [UInt8]) -> Int? {
            input.withUnsafeBufferPointer { TextDecoding.firstInvalidUTF8($0) }
        }
        #expect(firstInvalid(Array("aé€😀".utf8)) == nil)
        #expect(firstInvalid([0xF4, 0x8F, 0xBF, 0xBF]) == nil) // U+10FFFF
        #expect(firstInvalid([0x61, 0xF4, 0x90, 0x80, 0x80]) == 1) // above U+10FFFF
        #expect(firstInvalid([0xED, 0xA0, 0x80]) == 0) // surrogate
        #expect(firstInvalid([0xE0, 0x80, 0x80]) == 0) // overlong
        #expect(firstInvalid([0x61, 0x62, 0xE2, 0x82]) == 2) // truncated
        #expect(firstInvalid([0x80]) == 0) // lone continuation byte
        #expect(firstInvalid([0xC3, 0x41]) == 0) // missing continuation byte
    }
}

@Suite("Error messages")
struct ErrorMessageTests {
    @Test func descriptionsNameTheLine() {
        #expect(CSVError.unterminatedQuote(line: 3).description == "line 3: unterminated quoted field")
        #expect(CSVError.containsNUL(line: 1).description == "line 1: contains a NUL byte (not a text file)")
        #expect(CSVError.undecodable(line: 7).description == "line 7: text is neither UTF-8 nor Windows-1252")
        #expect(CSVError.undecodable(line: 7).line == 7)
    }

    @Test func messageNamesTheFile() {
        #expect(CSVError.unterminatedQuote(line: 3).message(file: "file.csv")
                == "file.csv: line 3: unterminated quoted field")
    }
}
