import Testing
@testable import MassivaCSV

@Suite("Writer")
struct CSVWriterTests {
    /// The written bytes after the BOM, as text.
    private func text(_ writer: CSVWriter) -> String {
        String(decoding: writer.bytes.dropFirst(3), as: UTF8.self)
    }

    @Test func defaultsAreBOMSemicolonAndCRLF() {
        var writer = CSVWriter()
        #expect(writer.bytes == TextDecoding.bom)
        writer.write(["POD", "Esito"])
        writer.write(["IT001", "ok"])
        #expect(writer.bytes == TextDecoding.bom + Array("POD;Esito\r\nIT001;ok\r\n".utf8))
    }

    @Test func withoutBOMWithLFAndComma() {
        var writer = CSVWriter(delimiter: .comma, crlf: false, bom: false)
        writer.write(["a", "b;c", ""])
        #expect(writer.bytes == Array("a,b;c,\n".utf8))
    }

    @Test func quotesOnlyWhenNeeded() {
        var writer = CSVWriter()
        writer.write(["plain", "a;b", "say \"hi\"", "two\nlines", "cr\rhere", "x,y", " spaced ", "Società €"])
        #expect(text(writer)
                == "plain;\"a;b\";\"say \"\"hi\"\"\";\"two\nlines\";\"cr\rhere\";x,y; spaced ;Società €\r\n")

        var tabs = CSVWriter(delimiter: .tab, bom: false)
        tabs.write(["a\tb", "c;d"])
        #expect(tabs.bytes == Array("\"a\tb\"\tc;d\r\n".utf8))
    }

    @Test func formulasAreLeftAlone() {
        var writer = CSVWriter()
        writer.write(["=SUM(A1:A2)", "+39 333", "-1", "@cmd"])
        #expect(text(writer) == "=SUM(A1:A2);+39 333;-1;@cmd\r\n")
    }

    @Test func emptyCellsAreKept() {
        var writer = CSVWriter()
        writer.write(["", "x", "", ""])
        #expect(text(writer) == ";x;;\r\n")
    }

    @Test func rowsThatWouldBeBlankLinesAreQuoted() {
        var writer = CSVWriter()
        writer.write([""])
        writer.write(["  "])
        writer.write([])
        #expect(text(writer) == "\"\"\r\n\"  \"\r\n\"\"\r\n")

        var tabs = CSVWriter(delimiter: .tab, bom: false)
        tabs.write(["", " "])
        #expect(tabs.bytes == Array("\"\"\t \r\n".utf8))
    }

    @Test func leadingByteOrderMarkInTheFirstCellIsQuotedWithoutBOM() {
        var writer = CSVWriter(bom: false)
        writer.write(["\u{FEFF}x", "\u{FEFF}y"])
        writer.write(["\u{FEFF}z"])
        #expect(writer.bytes == Array("\"\u{FEFF}x\";\u{FEFF}y\r\n\u{FEFF}z\r\n".utf8))
    }

    @Test func roundTripOfAwkwardValues() throws {
        let rows: [[String]] = [
            ["POD", "Esito", "Note"],
            ["a;b", "a,b", "a\tb"],
            ["\"", "\"\"", "\"quoted\""],
            ["two\r\nlines", "lf\nonly", "cr\ronly"],
            ["", "", ""],
            [" lead", "trail ", "  "],
            ["Società", "€ 10", "😀"],
            [""],
            ["   "],
            ["=1+1", "x;", ";"],
            ["\u{FEFF}bom", "last"],
        ]
        for delimiter in CSVDelimiter.allCases {
            for crlf in [true, false] {
                for bom in [true, false] {
                    var writer = CSVWriter(delimiter: delimiter, crlf: crlf, bom: bom)
                    for row in rows { writer.write(row) }
                    let document = try CSVReader.read(writer.bytes, delimiter: delimiter)
                    let label: Comment = "\(delimiter) crlf: \(crlf) bom: \(bom)"
                    #expect(document.rows == rows, label)
                    #expect(document.encoding == (bom ? .utf8WithBOM : .utf8), label)
                    #expect(document.lines == [1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14], label)
                }
            }
        }
    }

    @Test func roundTripDetectsTheWrittenDelimiter() throws {
        for delimiter in CSVDelimiter.allCases {
            var writer = CSVWriter(delimiter: delimiter)
            writer.write(["POD", "MOME", "Esito"])
            writer.write(["IT001", "M;1", "ok, \"fatto\""])
            let document = try CSVReader.read(writer.bytes)
            #expect(document.delimiter == delimiter)
            #expect(document.rows == [["POD", "MOME", "Esito"], ["IT001", "M;1", "ok, \"fatto\""]])
        }
    }
}
