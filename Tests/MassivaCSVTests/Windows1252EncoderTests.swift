import Testing
@testable import MassivaCSV

@Suite("Windows-1252 output")
struct Windows1252EncoderTests {
    @Test func everyByteTheDecoderReadsIsWrittenBack() throws {
        // The round trip over the whole code page: 251 defined bytes (0x81, 0x8D, 0x8F, 0x90,
        // 0x9D are undefined), each read by the decoder and written back as the same byte.
        for byte in UInt8(0x20)...UInt8(0xFF) where ![0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(byte) {
            let scalar = try #require(Unicode.Scalar(UInt32(TextDecoding.windows1252Scalar(byte))))
            #expect(Windows1252Encoder.encode(String(Character(scalar))) == [byte], "byte \(byte)")
        }
    }

    @Test func whatTheCodePageLacksBecomesAQuestionMark() {
        #expect(Windows1252Encoder.encode("ıſ電\u{85}x") == Array("????x".utf8))
        #expect(!Windows1252Encoder.canEncode("ı") && Windows1252Encoder.canEncode("Società €"))
        // Composed first: e + combining acute is the one é byte.
        #expect(Windows1252Encoder.encode("perche\u{301}") == Array("perch".utf8) + [0xE9])
    }

    @Test func theWriterQuotesAsInUTF8() {
        var writer = CSVWriter(encoding: .windows1252)
        writer.write(["città; \"centro\"", "€", "plain"])
        #expect(writer.bytes == Array("\"citt".utf8) + [0xE0] + Array("; \"\"centro\"\"\";".utf8) + [0x80] + Array(";plain\r\n".utf8))
        // And what it wrote reads back as the same text.
        let read = try? CSVReader.read(writer.bytes)
        #expect(read?.records.first?.cells == ["città; \"centro\"", "€", "plain"])
    }
}
