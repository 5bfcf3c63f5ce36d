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
    }
}

@Suite struct RequestFileTests {
    @Test func headerIsOptionalAndDetectedByITPrefix() throws {
        let withHeader = try RequestFile.dataRows(records: [(1, ["POD", "Identificativo", "Tipo"]), (2, ["it001e00000001", "x", "standard"])], maxRows: 100)
        #expect(withHeader == [DataRow(line: 2, cells: ["IT001E00000001", "X", "STANDARD"])])
        let noHeader = try RequestFile.dataRows(records: [(1, ["IT001E00000001", "x", "Prosumer"])], maxRows: 100)
        #expect(noHeader.count == 1)
        // A first row that looks like data is not swallowed even if malformed.
        let bad = try RequestFile.dataRows(records: [(3, ["it9", "", ""])], maxRows: 100)
        #expect(bad == [DataRow(line: 3, cells: ["IT9"])])
    }

    @Test func trimsUpperCasesAndDropsTrailingEmptyCells() throws {
        let rows = try RequestFile.dataRows(records: [(1, [" IT001E00000001 ", "\tab ", " prosumer", "", " "])], maxRows: 100)
        #expect(rows[0].cells == ["IT001E00000001", "AB", "PROSUMER"])
        let middle = try RequestFile.dataRows(records: [(1, ["IT001E00000001", "", "standard"])], maxRows: 100)
        #expect(middle[0].cells == ["IT001E00000001", "", "STANDARD"])
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
