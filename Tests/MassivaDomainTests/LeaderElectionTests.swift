import Testing
import MassivaDomain
import MassivaTestSupport

/// The election's decisions, driven by a fake monotonic clock: no database, no timers.
@Suite struct LeaderElectionTests {
    let clock = FakeClock(1_800_000_000, monotonic: 1000)

    @Test func aStandbyAsksAndLeadsWhenGranted() {
        var e = LeaderElection(leaseTime: 15)
        #expect(e.nextStep == .acquire)
        #expect(!e.mayWork(at: clock.monotonic))
        let sent = clock.monotonic
        clock.advance(by: 0.2)
        #expect(e.record(.held(term: 3), to: .acquire, sentAt: sent, now: clock.monotonic) == .becameLeader(term: 3))
        // Trusted until a third before the lease's end, counted from when the request was sent.
        #expect(e.state == .leader(term: 3, trustedUntil: sent + 10))
        #expect(e.mayWork(at: clock.monotonic))
        #expect(e.nextStep == .renew(term: 3))
        #expect(e.nextCheck(after: sent) == sent + 5)
    }

    @Test func aRefusedStartStandsByOnceAndThenQuietly() {
        var e = LeaderElection(leaseTime: 15)
        #expect(e.record(.refused, to: .acquire, sentAt: clock.monotonic, now: clock.monotonic) == .becameStandby(.anotherLeads))
        clock.advance(by: 5)
        #expect(e.record(.refused, to: .acquire, sentAt: clock.monotonic, now: clock.monotonic) == nil)
        #expect(e.record(.failed, to: .acquire, sentAt: clock.monotonic, now: clock.monotonic) == nil)
        #expect(e.state == .standby && e.nextStep == .acquire)
    }

    @Test func renewalsKeepTheLeaderTrustingItsLease() {
        var e = LeaderElection(leaseTime: 15)
        _ = e.record(.held(term: 1), to: .acquire, sentAt: clock.monotonic, now: clock.monotonic)
        for _ in 0..<20 {
            clock.advance(by: 5)
            let sent = clock.monotonic
            #expect(e.record(.held(term: 1), to: .renew(term: 1), sentAt: sent, now: sent + 0.1) == nil)
            #expect(e.state == .leader(term: 1, trustedUntil: sent + 10))
            #expect(e.tick(now: clock.monotonic) == nil)
        }
    }

    @Test func aLeaderThatCannotRenewStopsBeforeItsLeaseEnds() {
        var e = LeaderElection(leaseTime: 15)
        let start = clock.monotonic
        _ = e.record(.held(term: 4), to: .acquire, sentAt: start, now: start)
        // The database does not answer: it goes on trusting what it has, no longer.
        clock.advance(by: 5)
        #expect(e.record(.failed, to: .renew(term: 4), sentAt: clock.monotonic, now: clock.monotonic) == nil)
        #expect(e.mayWork(at: clock.monotonic))
        #expect(e.nextCheck(after: clock.monotonic) == start + 10)  // wakes at the end of its trust
        clock.advance(by: 4.9)
        #expect(e.tick(now: clock.monotonic) == nil)
        clock.advance(by: 0.1)
        #expect(!e.mayWork(at: clock.monotonic))
        #expect(e.tick(now: clock.monotonic) == .becameStandby(.lapsed))
        // 10 s after the last grant: 5 s before any other node may take the lease.
        #expect(clock.monotonic - start == 10)
        #expect(e.nextStep == .acquire)
    }

    @Test func aLostLeaseStepsDownAtOnceAndAStaleAnswerIsNoLease() {
        var e = LeaderElection(leaseTime: 15)
        _ = e.record(.held(term: 2), to: .acquire, sentAt: clock.monotonic, now: clock.monotonic)
        clock.advance(by: 5)
        #expect(e.record(.refused, to: .renew(term: 2), sentAt: clock.monotonic, now: clock.monotonic) == .becameStandby(.lost))
        #expect(e.record(.held(term: 2), to: .renew(term: 2), sentAt: clock.monotonic, now: clock.monotonic) == nil)
        #expect(e.state == .standby)
        // Taken again later: a new term.
        clock.advance(by: 20)
        #expect(e.record(.held(term: 4), to: .acquire, sentAt: clock.monotonic, now: clock.monotonic) == .becameLeader(term: 4))
    }

    @Test func anAnswerThatComesTooLateGrantsNothing() {
        var e = LeaderElection(leaseTime: 3)
        let sent = clock.monotonic
        clock.advance(by: 2.5)  // the answer took longer than the trust it would give (2 s)
        #expect(e.record(.held(term: 1), to: .acquire, sentAt: sent, now: clock.monotonic) == .becameStandby(.lapsed))
        #expect(!e.mayWork(at: clock.monotonic))
    }

    @Test func stoppingStandsALeaderDownAndAsksNothingMore() {
        var e = LeaderElection(leaseTime: 15)
        _ = e.record(.held(term: 1), to: .acquire, sentAt: clock.monotonic, now: clock.monotonic)
        #expect(e.stop() == .becameStandby(.stopping))
        #expect(e.nextStep == nil && !e.mayWork(at: clock.monotonic))
        #expect(e.record(.held(term: 1), to: .acquire, sentAt: clock.monotonic, now: clock.monotonic) == nil)
    }
}
