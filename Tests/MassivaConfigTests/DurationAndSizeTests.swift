import Testing
import MassivaConfig

@Suite struct DurationSyntaxTests {
    @Test func everyUnitAndABareNumber() {
        #expect(DurationSyntax.parse("300s") == 300)
        #expect(DurationSyntax.parse("300") == 300)
        #expect(DurationSyntax.parse("5m") == 300)
        #expect(DurationSyntax.parse("1h") == 3600)
        #expect(DurationSyntax.parse("1d") == 86_400)
        #expect(DurationSyntax.parse("250ms") == 0.25)
        #expect(DurationSyntax.parse("0s") == 0)
    }

    @Test func whatIsNotADuration() {
        for text in ["", "s", "5 m", "5M", "-5s", "1.5s", "5w", "ms", "5mss", "+5", "٣s", "99999999999999999999s"] {
            #expect(DurationSyntax.parse(text) == nil, "\(text)")
        }
        // Overflow of the unit's multiplication.
        #expect(DurationSyntax.parse("\(Int.max)d") == nil)
    }

    @Test func theCanonicalSpellingIsTheLargestExactUnit() {
        #expect(DurationSyntax.format(300) == "5m")
        #expect(DurationSyntax.format(3600) == "1h")
        #expect(DurationSyntax.format(86_400 * 2) == "2d")
        #expect(DurationSyntax.format(90) == "90s")
        #expect(DurationSyntax.format(0.25) == "250ms")
        #expect(DurationSyntax.format(0) == "0s")
        #expect(DurationSyntax.format(-3) == "0s")
        #expect(DurationSyntax.format(.infinity) == "0s")
        for text in ["5m", "90s", "250ms", "4000s", "1d", "0s"] {
            #expect(DurationSyntax.format(DurationSyntax.parse(text)!) == text)
        }
    }
}

@Suite struct SizeSyntaxTests {
    @Test func bytesKibibytesMebibytes() {
        #expect(SizeSyntax.parse("1048576") == 1_048_576)
        #expect(SizeSyntax.parse("512k") == 524_288)
        #expect(SizeSyntax.parse("512K") == 524_288)
        #expect(SizeSyntax.parse("1m") == 1_048_576)
        #expect(SizeSyntax.parse("1M") == 1_048_576)
        #expect(SizeSyntax.parse("0") == 0)
    }

    @Test func whatIsNotASize() {
        for text in ["", "k", "1g", "1 m", "-1", "1.5m", "1kb", "\(Int.max)m"] {
            #expect(SizeSyntax.parse(text) == nil, "\(text)")
        }
    }

    @Test func theCanonicalSpelling() {
        #expect(SizeSyntax.format(1_048_576) == "1m")
        #expect(SizeSyntax.format(2048) == "2k")
        #expect(SizeSyntax.format(1000) == "1000")
        #expect(SizeSyntax.format(0) == "0")
    }
}
