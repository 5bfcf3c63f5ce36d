import Testing
@testable import MassivaDomain

@Suite struct IdentifierTests {
    @Test(arguments: ["IT001E00000001", "IT123E12345678A", "IT001E123456789"])
    func validPODs(_ pod: String) { #expect(Identifiers.isValidPOD(pod)) }

    @Test(arguments: ["", "IT001E0000001", "IT001X00000001", "XX001E00000001", "IT001E00000001AB", "IT0A1E00000001", "IT001E0000000a"])
    func invalidPODs(_ pod: String) { #expect(!Identifiers.isValidPOD(pod)) }

    @Test func sidAndNID() {
        #expect(Identifiers.isValidSID("16MOMSPC300001811"))
        #expect(!Identifiers.isValidSID("16MOMSPC30000181"))
        #expect(!Identifiers.isValidSID("16MOMSPC30000181-"))
        #expect(Identifiers.isNID("DC2620001A2B"))
        #expect(!Identifiers.isNID("DC2620001A2G"))
        #expect(Identifiers.family(ofSID: "16SMISF8100023867") == "SMI")
    }

    @Test func requestIDs() {
        #expect(RequestID(31).description == "MOME-000000031")
        #expect(RequestID(parsing: "mome-000000031") == RequestID(31))
        #expect(RequestID(parsing: "31") == RequestID(31))
        #expect(RequestID(parsing: "MOME-") == nil)
        #expect(RequestID(parsing: "MOME-1234567890") == nil)
        #expect(RequestID(parsing: "0") == nil)
        // Only ASCII letters fold: Unicode upper-casing has no look-alike of MOME to offer,
        // but the rule is the same everywhere; a combining mark after "-" is not dropped with it.
        #expect(RequestID(parsing: "Mome-31") == RequestID(31))
        #expect(RequestID(parsing: "MOME-\u{301}31") == nil)
        #expect(RequestID(parsing: "ＭＯＭＥ-31") == nil)
        #expect(RequestID(parsing: "３１") == nil)
    }
}

@Suite struct RequestFileTests {
    @Test func headerIsOptionalAndIsARowWithoutDigits() throws {
        let withHeader = try RequestFile.dataRows(records: [(1, ["POD", "Identificativo", "Tipo"]), (2, ["it001e00000001", "x", "standard"])], maxRows: 100)
        #expect(withHeader == [DataRow(line: 2, cells: ["IT001E00000001", "X", "STANDARD"])])
        let noHeader = try RequestFile.dataRows(records: [(1, ["IT001E00000001", "x", "Prosumer"])], maxRows: 100)
        #expect(noHeader.count == 1)
        // A first row that looks like data is not swallowed even if malformed.
        let bad = try RequestFile.dataRows(records: [(3, ["it9", "", ""])], maxRows: 100)
        #expect(bad == [DataRow(line: 3, cells: ["IT9"])])
    }

    static let template = ["POD", "Identificativo MOME/Smart INFO", "Tipo Configurazione"]
    static let data: (line: Int, cells: [String]) = (9, ["IT001E00000001", "16SMISF8100001001", "Standard"])

    /// The rows `first` and `data` become, when `first` is the first non-blank row.
    func read(_ first: [String], blankLinesBefore: Int = 0) throws -> [DataRow] {
        let blanks = (0..<blankLinesBefore).map { (line: $0 + 1, cells: $0 % 2 == 0 ? [""] : ["", " ", ""]) }
        return try RequestFile.dataRows(records: blanks + [(line: blankLinesBefore + 1, cells: first), Self.data], maxRows: 100)
    }

    @Test func theTemplatesHeaderIsSkippedWhateverTheCase() throws {
        for header in [Self.template, Self.template.map { $0.lowercased() }, ["POD", "SID", "Tipo Configurazione (modalità)"]] {
            let rows = try read(header)
            #expect(rows.map(\.line) == [9], "\(header)")
            #expect(rows.first?.cells.first == "IT001E00000001")
        }
    }

    @Test func aFirstRowWithATypoInThePODIsDataNotAHeader() throws {
        // The old rule (header unless the first cell begins with IT) swallowed this row.
        let rows = try read(["XX001E00000001", "16SMISF8100001001", "Standard"])
        #expect(rows.map(\.line) == [1, 9])
        #expect(rows[0].cells == ["XX001E00000001", "16SMISF8100001001", "STANDARD"])
        var validator = RowValidator()
        #expect(validator.check(rows[0]) == .refused(.invalidPOD, detail: nil))
    }

    @Test(arguments: [
        ["pod", "sid", "tipo"],                     // letters only: a header
        ["POD", "", "Tipo"],                        // an empty cell has no digit either
        ["Pod ß", "Identificativo ﬁ", "Tipo ı"],    // non-ASCII letters are letters
        ["POD"],                                    // any number of cells
    ])
    func rowsWithoutADigitAreHeaders(_ first: [String]) throws {
        #expect(RequestFile.isHeader(first.map(RequestFile.normalise)))
        #expect(try read(first).map(\.line) == [9])
    }

    @Test(arguments: [
        ["POD", "Identificativo 2", "Tipo"],        // a digit in a middle cell
        ["POD", "SID", "Tipo1"],                    // in the last cell
        ["1", "", ""],                              // a lone digit
        ["IT", "SID", "Tipo ２"],                   // a fullwidth digit is a digit too
        ["ＩＴ００１Ｅ０００００００１", "16SMISF8100001001", "Standard"],
    ])
    func aDigitInAnyCellMakesARowData(_ first: [String]) throws {
        #expect(!RequestFile.isHeader(first.map(RequestFile.normalise)))
        let rows = try read(first)
        #expect(rows.map(\.line) == [1, 9], "\(first)")
    }

    @Test func theHeaderIsTheFirstNonBlankRowAndLinesStayTheFilesOwn() throws {
        // Blank lines (and Excel's delimiter-only lines) before it: still the header, and the
        // rows keep the file's line numbers.
        let header = try read(Self.template, blankLinesBefore: 3)
        #expect(header.map(\.line) == [9])
        let data = try read(["XX001E00000001", "16SMISF8100001001", "Standard"], blankLinesBefore: 3)
        #expect(data.map(\.line) == [4, 9])
        // Only the first non-blank row can be a header: a later row without digits is data.
        let later = try RequestFile.dataRows(records: [(2, Self.template), (3, ["pod", "sid", "tipo"]), Self.data], maxRows: 100)
        #expect(later.map(\.line) == [3, 9])
        #expect(later[0].cells == ["POD", "SID", "TIPO"])
    }

    @Test func trimsUpperCasesAndDropsTrailingEmptyCells() throws {
        let rows = try RequestFile.dataRows(records: [(1, [" IT001E00000001 ", "\tab ", " prosumer", "", " "])], maxRows: 100)
        #expect(rows[0].cells == ["IT001E00000001", "AB", "PROSUMER"])
        let middle = try RequestFile.dataRows(records: [(1, ["IT001E00000001", "", "standard"])], maxRows: 100)
        #expect(middle[0].cells == ["IT001E00000001", "", "STANDARD"])
    }

    /// Unicode upper-casing would turn these into ASCII letters (`ß` → `SS`, `ﬁ` → `FI`,
    /// `ı` → `I`, `ſ` → `S`): a typo would pass as a valid value.
    @Test(arguments: [("ß", "SS"), ("ı", "I"), ("ﬁ", "FI"), ("ſ", "S")])
    func onlyASCIILettersAreUpperCased(letter: String, unicodeUpper: String) throws {
        #expect(letter.uppercased() == unicodeUpper)     // what the old code did
        #expect(RequestFile.normalise(" a\(letter)z ") == "A\(letter)Z")
        #expect(RequestFile.normalise("\(letter)") == letter)
        #expect("x\(letter)y".asciiUppercased() == "X\(letter)Y")
    }

    @Test func nonASCIILettersNeverMakeAValidValue() throws {
        // ıt001e… with a dotless ı: IT001E… under Unicode upper-casing.
        let pod = RequestFile.normalise("ıt001e00000001")
        #expect(pod == "ıT001E00000001")
        #expect(!Identifiers.isValidPOD(pod))
        // A 17-character SID with ß is 18 once Unicode-upper-cased, and not letters/digits either way.
        #expect(!Identifiers.isValidSID(RequestFile.normalise("16SMISF810000100ß")))
        // Configuration types spelt with look-alikes: ſ (long s), ﬆ (ligature st), ı, ﬁ.
        for type in ["ſtandard", "\u{017F}TANDARD", "\u{FB06}andard", "prosumer\u{0131}", "prosumer\u{FB01}"] {
            #expect(ConfigurationType(parsing: RequestFile.normalise(type)) == nil, "\(type)")
        }
        #expect("ſtandard".uppercased() == "STANDARD" && "\u{FB06}andard".uppercased() == "STANDARD")  // what Unicode does
        #expect(ConfigurationType(parsing: "sTaNdArD") == .standard && ConfigurationType(parsing: "PROSUMER") == .prosumer)
        var validator = RowValidator()
        #expect(validator.check(DataRow(line: 1, cells: ["IT001E00000001", "16SMISF8100001001", RequestFile.normalise("ſtandard")]))
                == .refused(.invalidConfigType, detail: nil))
        #expect(validator.check(DataRow(line: 2, cells: [pod, "16SMISF8100001001", "STANDARD"])) == .refused(.invalidPOD, detail: nil))
    }

    @Test func bothPathsTrimTheSameWhiteSpace() {
        // A quoted cell may end in a line break; NBSP forces the non-ASCII path.
        #expect(RequestFile.normalise("\r\n\u{0B}it001e00000001\n") == "IT001E00000001")
        #expect(RequestFile.normalise("\u{00A0}it001e00000001\n") == "IT001E00000001")
    }

    @Test func rowLimitAndEmptyFiles() {
        let rows = (1...101).map { (line: $0, cells: ["IT001E\(10_000_000 + $0)", "s", "standard"]) }
        #expect(throws: FileRejection.tooManyRows(count: 101, limit: 100)) { try RequestFile.dataRows(records: rows, maxRows: 100) }
        #expect((try? RequestFile.dataRows(records: Array(rows.prefix(100)), maxRows: 100))?.count == 100)
        #expect(throws: FileRejection.noDataRows) { try RequestFile.dataRows(records: [], maxRows: 100) }
        #expect(throws: FileRejection.noDataRows) { try RequestFile.dataRows(records: [(1, ["POD", "SID", "TIPO"])], maxRows: 100) }
    }
}

@Suite struct RowValidatorTests {
    func check(_ cells: [String], after earlier: [[String]] = []) -> RowValidation {
        var v = RowValidator()
        for (i, e) in earlier.enumerated() { _ = v.check(DataRow(line: i + 1, cells: e)) }
        return v.check(DataRow(line: earlier.count + 1, cells: cells))
    }

    func code(_ r: RowValidation) -> RowCode? {
        if case .refused(let c, _) = r { return c }
        return nil
    }

    let pod = "IT001E00000001", sid = "16MOMSPC300001811"

    @Test func validRow() {
        #expect(check([pod, sid, "PROSUMER"]) == .valid(ValidRow(pod: pod, sid: sid, configurationType: .prosumer)))
    }

    @Test func eachCheckInOrder() {
        #expect(code(check([pod, sid])) == .invalidRow)
        #expect(code(check([pod, sid, "STANDARD", "X"])) == .invalidRow)
        // Check 1 wins over every later problem.
        #expect(code(check(["BAD", "DC2620001A2B"])) == .invalidRow)
        #expect(code(check(["", sid, "STANDARD"])) == .invalidPOD)
        #expect(code(check(["IT001E000000012", sid, "STANDARD"])) == nil)  // 15 characters, optional last digit
        #expect(code(check(["IT001E00000001-", sid, "STANDARD"])) == .invalidPOD)
        #expect(code(check(["IT001E0000000123", sid, "STANDARD"])) == .invalidPOD)  // 16 chars
        // POD (2) before SID (3) before type (4).
        #expect(code(check(["XX", "DC2620001A2B", "BOTH"])) == .invalidPOD)
        #expect(code(check([pod, "DC2620001A2B", "BOTH"])) == .nidNotAllowed)
        #expect(code(check([pod, "SHORT", "BOTH"])) == .invalidSID)
        #expect(code(check([pod, sid, "BOTH"])) == .invalidConfigType)
        #expect(code(check([pod, sid, ""])) == .invalidConfigType)
    }

    @Test func duplicatesPODBeforeSIDAndOnlyAgainstValidRows() {
        let other = "IT001E00000002", otherSID = "16MOMSPC300001812"
        #expect(code(check([pod, sid, "STANDARD"], after: [[pod, sid, "STANDARD"]])) == .duplicatePOD)
        #expect(code(check([pod, otherSID, "STANDARD"], after: [[pod, sid, "STANDARD"]])) == .duplicatePOD)
        #expect(code(check([other, sid, "STANDARD"], after: [[pod, sid, "STANDARD"]])) == .duplicateSID)
        // The earlier row failed check 4, so it does not count.
        #expect(code(check([pod, sid, "STANDARD"], after: [[pod, sid, "NOPE"]])) == nil)
        if case .refused(_, let detail) = check([pod, sid, "STANDARD"], after: [[pod, sid, "STANDARD"]]) {
            #expect(detail == "vedi riga 1")
        }
    }
}

@Suite struct RulesTests {
    let row = ValidRow(pod: "IT001E00000001", sid: "16MOMSPC300001811", configurationType: .prosumer)
    var pod: PODRecord {
        PODRecord(pod: "IT001E00000001", eneltel: "123456789", matricola: "00331N12345678", meterType: .exchange, exchangePOD: nil,
                  telemanaged: true, eligible: true, holderTaxCode: "RSSMRA80A01H501U",
                  productionPODs: ["IT001E00000009", "IT001E00000003", "IT001E00000005"])
    }
    let device = DeviceRecord(sid: "16MOMSPC300001811", nid: "DC2620001A2B", deviceType: "MOME", owner: "acme")

    func evaluate(pod: PODRecord?, device: DeviceRecord?, podAssoc: Association? = nil, devAssoc: Association? = nil,
                  row: ValidRow? = nil) -> Result<RegistryChecks.Plan, RowCode> {
        RegistryChecks.evaluate(row: row ?? self.row, tenant: "acme", request: "MOME-000000001", pod: pod, device: device,
                                podAssociation: podAssoc, deviceAssociation: devAssoc)
    }

    func association(pod: String, sid: String, request: String?) -> Association {
        Association(pod: pod, sid: sid, nid: "", deviceType: "MOME", configurationType: .standard, productionPOD: nil,
                    tenant: "acme", configurator: "u", request: request, createdAt: 0)
    }

    @Test func prosumerTakesFirstProductionPODAlphabetically() throws {
        let plan = try evaluate(pod: pod, device: device).get()
        #expect(plan.productionPOD == "IT001E00000003")
        #expect(plan.pod.isGesis)
        var standard = row
        standard = ValidRow(pod: standard.pod, sid: standard.sid, configurationType: .standard)
        #expect(try evaluate(pod: pod, device: device, row: standard).get().productionPOD == nil)
    }

    @Test func checksSixToFourteenInOrder() {
        var p = pod
        #expect(evaluate(pod: nil, device: nil) == .failure(.podNotFound))
        p.meterType = .production
        p.telemanaged = false
        #expect(evaluate(pod: p, device: nil) == .failure(.podIsProduction))
        p.meterType = .exchange
        p.eligible = false
        #expect(evaluate(pod: p, device: nil) == .failure(.podNotTelemanaged))
        p.telemanaged = true
        #expect(evaluate(pod: p, device: nil) == .failure(.meterNotEligible))
        p.eligible = true
        #expect(evaluate(pod: p, device: nil) == .failure(.deviceNotFound))
        var d = device
        d.owner = "voltaic"
        let taken = association(pod: row.pod, sid: "16MOMSPC399999999", request: "MOME-000000007")
        #expect(evaluate(pod: p, device: d, podAssoc: taken) == .failure(.deviceNotOwned))
        #expect(evaluate(pod: p, device: device, podAssoc: taken, devAssoc: taken) == .failure(.podAlreadyAssociated))
        let deviceTaken = association(pod: "IT001E00000077", sid: row.sid, request: nil)
        #expect(evaluate(pod: p, device: device, devAssoc: deviceTaken) == .failure(.deviceAlreadyAssociated))
        p.productionPODs = []
        #expect(evaluate(pod: p, device: device) == .failure(.noProductionPOD))
    }

    @Test func ownEarlierSuccessIsNotAConflict() throws {
        let mine = association(pod: row.pod, sid: row.sid, request: "MOME-000000001")
        let plan = try evaluate(pod: pod, device: device, podAssoc: mine, devAssoc: mine).get()
        #expect(plan.alreadyDone)
        let otherRequest = association(pod: row.pod, sid: row.sid, request: "MOME-000000002")
        #expect(evaluate(pod: pod, device: device, podAssoc: otherRequest, devAssoc: otherRequest) == .failure(.podAlreadyAssociated))
    }
}

@Suite struct OutcomeTests {
    @Test func backoffDoublesUpToTheMaximum() {
        let b = Backoff(minimal: 300, maximal: 4000)
        #expect(b.delay(afterAttempt: 1) == 300)
        #expect(b.delay(afterAttempt: 2) == 600)
        #expect(b.delay(afterAttempt: 4) == 2400)
        #expect(b.delay(afterAttempt: 5) == 4000)
        #expect(b.delay(afterAttempt: 500) == 4000)
        #expect(b.delay(afterAttempt: 1, jitter: 0.1) == 330)
    }

    @Test func requestLabels() {
        #expect(RequestOutcome.label(status: .done, rowsFailed: 0, maxAttemptsHit: false, reason: nil) == "Lavorato")
        #expect(RequestOutcome.label(status: .done, rowsFailed: 2, maxAttemptsHit: false, reason: nil) == "Lavorato con errori")
        #expect(RequestOutcome.label(status: .done, rowsFailed: 2, maxAttemptsHit: true, reason: nil)
                == "Lavorato con errori: raggiunto massimo numero di tentativi")
        #expect(RequestOutcome.label(status: .rejected, rowsFailed: 0, maxAttemptsHit: false, reason: "x") == "Rifiutato: x")
        #expect(RequestOutcome.label(status: .queued, rowsFailed: 0, maxAttemptsHit: false, reason: nil) == "In attesa")
        #expect(RequestOutcome.label(status: .cancelled, rowsFailed: 0, maxAttemptsHit: false, reason: nil) == "Annullato")
        #expect(RowCode.ok.esito == "Elaborato" && RowCode.meterUnreachable.esito == "In attesa" && RowCode.podNotFound.esito == "In errore")
        #expect(RowCode.podAlreadyAssociated.description == "POD inserito già associato")
    }
}

@Suite struct LengthMessageTests {
    /// "più di 15 caratteri" counts characters: a 14-character POD with an accented letter
    /// (15 bytes) is malformed, not too long.
    @Test func podLengthCountsCharactersNotBytes() {
        var validator = RowValidator()
        let fourteen = validator.check(DataRow(line: 2, cells: ["IT001E0000000È", "16MOMSPC300000001", "STANDARD"]))
        #expect(fourteen == .refused(.invalidPOD, detail: nil))
        let sixteen = validator.check(DataRow(line: 3, cells: ["IT001E0000000001", "16MOMSPC300000001", "STANDARD"]))
        #expect(sixteen == .refused(.invalidPOD, detail: "più di 15 caratteri"))
    }
}
