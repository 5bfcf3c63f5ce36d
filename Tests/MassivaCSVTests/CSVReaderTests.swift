import Testing
@testable import MassivaCSV

@Suite("Delimiter detection")
struct DelimiterDetectionTests {
    @Test func semicolon() throws {
        let document = try read("POD;MOME;Azione\nIT001;M1;A\n")
        #expect(document.delimiter == .semicolon)
        #expect(document.rows == [["POD", "MOME", "Azione"], ["IT001", "M1", "A"]])
    }

    @Test func comma() throws {
        let document = try read("pod,mome\nIT001,M1\n")
        #expect(document.delimiter == .comma)
        #expect(document.rows == [["pod", "mome"], ["IT001", "M1"]])
    }

    @Test func tab() throws {
        let document = try read("pod\tmome\tnote\nIT001\tM1\tx;y,z\n")
        #expect(document.delimiter == .tab)
        #expect(document.rows == [["pod", "mome", "note"], ["IT001", "M1", "x;y,z"]])
    }

    @Test func mostFrequentWins() throws {
        #expect(try read("a;b,c,d\n").delimiter == .comma)
        #expect(try read("a,b;c;d\n").delimiter == .semicolon)
        #expect(try read("a\tb\tc,d;e\n").delimiter == .tab)
    }

    @Test func tiesGoToSemicolonThenComma() throws {
        #expect(try read("a;b,c\n").delimiter == .semicolon)
        #expect(try read("a;b\tc\n").delimiter == .semicolon)
        #expect(try read("a,b\tc\n").delimiter == .comma)
    }

    @Test func noDelimiterMeansSemicolonAndOneCell() throws {
        let document = try read("IT001\nIT002\n")
        #expect(document.delimiter == .semicolon)
        #expect(document.rows == [["IT001"], ["IT002"]])
    }

    @Test func onlyTheFirstNonBlankLineCounts() throws {
        let document = try read("\n   \npod,mome\nx;y;z;w\n")
        #expect(document.delimiter == .comma)
        #expect(document.rows == [["pod", "mome"], ["x;y;z;w"]])
        #expect(document.lines == [3, 4])
    }

    @Test func delimitersInsideQuotesDoNotCount() throws {
        // Raw counting would see two `;` and two `,` and pick `;`.
        let document = try read("\"Rossi; Mario; srl\",IT001,M1\n")
        #expect(document.delimiter == .comma)
        #expect(document.rows == [["Rossi; Mario; srl", "IT001", "M1"]])
    }

    @Test func forcedDelimiterIsUsed() throws {
        let document = try read("a;b,c;d,e\n", delimiter: .comma)
        #expect(document.delimiter == .comma)
        #expect(document.rows == [["a;b", "c;d", "e"]])
        #expect(try read("a,b\tc\n", delimiter: .tab).rows == [["a,b", "c"]])
    }
}

@Suite("Records and quoting")
struct RecordTests {
    @Test func lineEndingsCRLFLFAndCR() throws {
        let expected = [["a", "b"], ["c", "d"]]
        for text in ["a;b\r\nc;d\r\n", "a;b\nc;d\n", "a;b\rc;d\r", "a;b\r\nc;d", "a;b\rc;d"] {
            let document = try read(text)
            #expect(document.rows == expected, "\(text.debugDescription)")
            #expect(document.lines == [1, 2], "\(text.debugDescription)")
        }
        #expect(try read("a\r\nb\nc\rd").lines == [1, 2, 3, 4])
    }

    @Test func quotedDelimitersAndDoubledQuotes() throws {
        let document = try read("\"a;b\";\"say \"\"hi\"\"\";\"\"\"\";c\n")
        #expect(document.rows == [["a;b", "say \"hi\"", "\"", "c"]])
    }

    @Test func quotedNewlinesAndTheLineOfTheNextRecord() throws {
        let document = try read("id;note\n1;\"line one\nline two\"\n2;x\n3;\"a\r\nb\rc\"\r\n4;y\n")
        #expect(document.rows == [
            ["id", "note"], ["1", "line one\nline two"], ["2", "x"], ["3", "a\r\nb\rc"], ["4", "y"],
        ])
        #expect(document.lines == [1, 2, 4, 5, 8])
    }

    @Test func emptyQuotedCellAndQuotedCellAtEnd() throws {
        #expect(try read("\"\";x;\"\"\n").rows == [["", "x", ""]])
        #expect(try read("a;\"b\"").rows == [["a", "b"]])
    }

    @Test func strayQuotesAreKeptLeniently() throws {
        // Text after a closing quote stays in the cell; a quote inside an unquoted cell is literal.
        #expect(try read("\"ab\"c;d\n").rows == [["abc", "d"]])
        #expect(try read("ab\"c;d\"\n").rows == [["ab\"c", "d\""]])
        #expect(try read(" \"a;b\"\n").rows == [[" \"a", "b\""]])
    }

    @Test func trailingEmptyCellsArePreserved() throws {
        #expect(try read("a;b;c;;\n").rows == [["a", "b", "c", "", ""]])
        #expect(try read("a;").rows == [["a", ""]])
        #expect(try read(";;\n").rows == [["", "", ""]])
    }

    @Test func emptyMiddleCell() throws {
        #expect(try read("a;;c\n").rows == [["a", "", "c"]])
    }

    @Test func cellsAreNotTrimmedOrChanged() throws {
        #expect(try read(" a ; b\t;it001 \n").rows == [[" a ", " b\t", "it001 "]])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let document = try read("a;b\n\n   \n\t \r\n\rc;d\n \n")
        #expect(document.rows == [["a", "b"], ["c", "d"]])
        #expect(document.lines == [1, 6])
    }

    @Test func emptyAndBlankInputHaveNoRecords() throws {
        let empty = try CSVReader.read([])
        #expect(empty.records.isEmpty)
        #expect(empty.delimiter == .semicolon)
        #expect(empty.encoding == .utf8)
        #expect(try read("\n\r\n  \t\n").records.isEmpty)
        #expect(try read(" ").records.isEmpty)
    }

    @Test func unterminatedQuoteNamesTheLineWhereTheCellStarted() throws {
        #expect(throws: CSVError.unterminatedQuote(line: 3)) {
            try read("a;b\n\nc;\"open\nmore;stuff\n")
        }
        #expect(throws: CSVError.unterminatedQuote(line: 1)) { try read("\"") }
        #expect(throws: CSVError.unterminatedQuote(line: 2)) { try read("x\n\"a\"\"\n") }
    }

    @Test func nulMeansNotText() throws {
        #expect(throws: CSVError.containsNUL(line: 2)) { try CSVReader.read(bytes("a;b\r\nc|d", 0)) }
        #expect(throws: CSVError.containsNUL(line: 1)) { try CSVReader.read([0]) }
        // UTF-16 text, as Excel's "Unicode text" writes it, is rejected the same way.
        #expect(throws: CSVError.containsNUL(line: 1)) {
            try CSVReader.read([0xFF, 0xFE, 0x61, 0x00, 0x3B, 0x00, 0x62, 0x00])
        }
    }

    @Test func hostileInputNeverCrashes() {
        var generator = SeededGenerator(seed: 0x6D61_7373_6976_61)
        // Mostly structural bytes, so quotes, delimiters and line breaks interact a lot.
        let alphabet: [UInt8] = Array("\";,\t\r\n a\"\"".utf8) + [0xE8, 0xC3, 0xA0, 0x80, 0x81, 0xEF, 0xBB, 0xBF]
        for round in 0..<3000 {
            let length = Int.random(in: 0...64, using: &generator)
            let input: [UInt8] = (0..<length).map { _ in
                round % 4 == 0
                    ? UInt8.random(in: 1...255, using: &generator)
                    : alphabet.randomElement(using: &generator)!
            }
            let forced: CSVDelimiter? = round % 3 == 0 ? nil : CSVDelimiter.allCases.randomElement(using: &generator)
            do throws(CSVError) {
                let document = try CSVReader.read(input, delimiter: forced)
                let lines = document.lines
                #expect(lines.allSatisfy { $0 >= 1 })
                #expect(lines == lines.sorted() && Set(lines).count == lines.count)
                #expect(document.records.allSatisfy { !$0.cells.isEmpty })
            } catch {
                #expect(error.line >= 1)
            }
        }
    }
}
