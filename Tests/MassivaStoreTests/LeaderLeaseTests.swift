import Testing
import MassivaDatabase
import MassivaStore
import MassivaTestSupport

/// The lease's store on a real SQLite database, its times from a fake clock: acquire, renew,
/// takeover only after expiry with the next term, release, and the fence of the engine's
/// transactions.
@Suite struct LeaderLeaseTests {
    let directory: TemporaryDirectory
    let clock = FakeClock(1_800_000_000)
    let a = LeaseHolder(node: "alpha", host: "host-a", pid: 100, startedAt: 1_799_999_000)
    let b = LeaseHolder(node: "beta", host: "host-b", pid: 200, startedAt: 1_799_999_500)
    let spool = "/srv/spool"

    init() throws {
        directory = try TemporaryDirectory(prefix: "massiva-lease")
    }

    /// A connection of its own, as each node has (two processes sharing the file).
    func connection() throws -> Database { try Schema.open(path: directory.path + "/massiva.db") }

    @Test func theFirstHolderGetsTermOneAndOthersAreRefusedUntilItExpires() throws {
        let leaseA = LeaderLease(database: try connection(), spool: spool)
        let leaseB = LeaderLease(database: try connection(), spool: spool)
        let taken = try #require(try leaseA.acquire(a, now: clock.now, leaseTime: 15))
        #expect(taken.holder == a.id && taken.term == 1 && taken.expiresAt == clock.now + 15)
        #expect(taken.node == "alpha" && taken.host == "host-a" && taken.pid == 100)

        clock.advance(by: 14)
        let refused = try #require(try leaseB.acquire(b, now: clock.now, leaseTime: 15))
        #expect(refused.holder == a.id && refused.term == 1)  // still valid: not taken

        clock.advance(by: 2)  // 16 s after: expired
        let takenOver = try #require(try leaseB.acquire(b, now: clock.now, leaseTime: 15))
        #expect(takenOver.holder == b.id && takenOver.term == 2 && takenOver.node == "beta")
    }

    @Test func renewalKeepsTheLeaseAndFailsOnceExpiredOrTaken() throws {
        let leaseA = LeaderLease(database: try connection(), spool: spool)
        let leaseB = LeaderLease(database: try connection(), spool: spool)
        _ = try leaseA.acquire(a, now: clock.now, leaseTime: 15)
        for _ in 0..<10 {  // 50 s of renewals every 5 s: B never gets it
            clock.advance(by: 5)
            #expect(try leaseA.renew(a, term: 1, now: clock.now, leaseTime: 15))
            #expect(try leaseB.acquire(b, now: clock.now, leaseTime: 15)?.holder == a.id)
        }
        #expect(try !leaseA.renew(a, term: 2, now: clock.now, leaseTime: 15))  // not its term
        #expect(try !leaseB.renew(b, term: 1, now: clock.now, leaseTime: 15))  // not its lease
        clock.advance(by: 16)
        #expect(try !leaseA.renew(a, term: 1, now: clock.now, leaseTime: 15))  // expired: acquire again
        #expect(try leaseB.acquire(b, now: clock.now, leaseTime: 15)?.term == 2)
        #expect(try !leaseA.renew(a, term: 1, now: clock.now, leaseTime: 15))
    }

    @Test func aHolderThatStoppedTrustingItsLeaseTakesItAgainUnderANewTerm() throws {
        let lease = LeaderLease(database: try connection(), spool: spool)
        _ = try lease.acquire(a, now: clock.now, leaseTime: 15)
        clock.advance(by: 3)
        #expect(try lease.acquire(a, now: clock.now, leaseTime: 15)?.term == 2)
    }

    @Test func aDeadHolderOfThisNodeIsReplacedAtOnce() throws {
        let lease = LeaderLease(database: try connection(), spool: spool)
        _ = try lease.acquire(a, now: clock.now, leaseTime: 15)
        let restarted = LeaseHolder(node: "alpha", host: "host-a", pid: 101, startedAt: clock.now)
        clock.advance(by: 1)
        #expect(try lease.acquire(restarted, now: clock.now, leaseTime: 15)?.holder == a.id)  // not said to be dead
        let taken = try lease.acquire(restarted, now: clock.now, leaseTime: 15, replacing: a.id)
        #expect(taken?.holder == restarted.id && taken?.term == 2)
    }

    @Test func releaseLetsAnotherTakeOverAtItsNextLook() throws {
        let leaseA = LeaderLease(database: try connection(), spool: spool)
        let leaseB = LeaderLease(database: try connection(), spool: spool)
        _ = try leaseA.acquire(a, now: clock.now, leaseTime: 15)
        clock.advance(by: 1)
        try leaseA.release(a, term: 1, now: clock.now)
        #expect(try leaseA.current()?.isValid(at: clock.now + 0.001) == false)
        clock.advance(by: 0.5)
        #expect(try leaseB.acquire(b, now: clock.now, leaseTime: 15)?.term == 2)
        try leaseA.release(a, term: 1, now: clock.now)  // too late: changes nothing of B's
        #expect(try leaseB.current()?.holder == b.id)
        #expect(try leaseB.current()?.isValid(at: clock.now + 10) == true)
    }

    @Test func theFenceLetsTheLeaderCommitAndAFormerLeaderNothing() throws {
        let engineA = try connection(), engineB = try connection()
        let store = StateStore.self
        _ = store
        try engineA.execute("CREATE TABLE work(n INTEGER)")
        let leaseA = LeaderLease(database: try connection(), spool: spool)
        let leaseB = LeaderLease(database: try connection(), spool: spool)
        let fenceA = LeaderFence(spool: spool, holder: a, monotonic: { clock.monotonic })
        let fenceB = LeaderFence(spool: spool, holder: b, monotonic: { clock.monotonic })
        fenceA.install(on: engineA)
        fenceB.install(on: engineB)

        // A leads: its transactions commit; B stands by: none of its do.
        let term = try #require(try leaseA.acquire(a, now: clock.now, leaseTime: 15)?.term)
        fenceA.lead(term: term, trustedUntil: clock.monotonic + 10)
        try engineA.transaction { try engineA.run("INSERT INTO work VALUES(1)") }
        #expect(throws: Fenced.self) { try engineB.transaction { try engineB.run("INSERT INTO work VALUES(2)") } }

        // A is paused past its lease (its own trust is not consulted: a paused process does not
        // look at its clock); B takes over. A's transaction, begun after, commits nothing.
        clock.advance(by: 16)
        let termB = try #require(try leaseB.acquire(b, now: clock.now, leaseTime: 15)?.term)
        #expect(termB == term + 1)
        fenceB.lead(term: termB, trustedUntil: clock.monotonic + 10)
        fenceA.lead(term: term, trustedUntil: clock.monotonic + 10)  // as if it still believed it
        #expect(throws: Fenced.self) { try engineA.transaction { try engineA.run("INSERT INTO work VALUES(3)") } }
        try engineB.transaction { try engineB.run("INSERT INTO work VALUES(4)") }
        #expect(try engineA.query("SELECT n FROM work ORDER BY n") { $0.int(0) } == [1, 4])

        // Its own trust ended: refused before the database is asked.
        clock.advance(by: 11)
        let error = #expect(throws: Fenced.self) { try engineB.transaction { try engineB.run("INSERT INTO work VALUES(5)") } }
        #expect(error?.reason == "no lease trusted now")

        // A write outside a transaction cannot be checked: refused on a fenced connection.
        fenceB.lead(term: termB, trustedUntil: clock.monotonic + 10)
        #expect(throws: DatabaseError.self) { try engineB.run("INSERT INTO work VALUES(6)") }
        #expect(try engineB.query("SELECT n FROM work ORDER BY n") { $0.int(0) } == [1, 4])
    }

    @Test func operatorsConnectionsAreNotFenced() throws {
        let operatorConnection = try connection()
        try operatorConnection.execute("CREATE TABLE notes(n INTEGER)")
        _ = try LeaderLease(database: try connection(), spool: spool).acquire(a, now: clock.now, leaseTime: 15)
        try operatorConnection.transaction { try operatorConnection.run("INSERT INTO notes VALUES(1)") }
        try operatorConnection.run("INSERT INTO notes VALUES(2)")
        #expect(try operatorConnection.query("SELECT n FROM notes") { $0.int(0) }.count == 2)
    }
}
