import Foundation
import Glibc
import MassivaSystem
import Testing

/// Local times: a zone's times are formatted at the offset tzdata gives for them (Foundation's
/// `TimeZone`), so no test sets `TZ`, which the whole process (and every suite running beside
/// this one) would see; the process's own zone is checked against `localtime_r`.
@Suite("Local time")
struct LocalTimeTests {
    /// The UTC offset of `zone` at `seconds` since the epoch, from tzdata.
    func offset(_ zone: String, at seconds: Double) throws -> Int {
        try #require(TimeZone(identifier: zone)).secondsFromGMT(for: Date(timeIntervalSince1970: seconds))
    }

    @Test func formatsKnownTimestampsInRome() throws {
        let rome = { (seconds: Double) in try offset("Europe/Rome", at: seconds) }
        #expect(SystemClock.iso8601(1_795_921_925, utcOffset: try rome(1_795_921_925)) == "2026-11-29T04:12:05+01:00")
        #expect(SystemClock.iso8601(1_795_921_925.999, utcOffset: try rome(1_795_921_925.999)) == "2026-11-29T04:12:05+01:00")
        #expect(SystemClock.iso8601(1_782_900_000, utcOffset: try rome(1_782_900_000)) == "2026-07-01T12:00:00+02:00")
        #expect(CalendarDay(at: 1_795_921_925, utcOffset: try rome(1_795_921_925)) == CalendarDay(year: 2026, month: 11, day: 29))
        let newYork = try offset("America/New_York", at: 1_795_921_925)
        #expect(SystemClock.iso8601(1_795_921_925, utcOffset: newYork) == "2026-11-28T22:12:05-05:00")
        #expect(CalendarDay(at: 1_795_921_925, utcOffset: newYork) == CalendarDay(year: 2026, month: 11, day: 28))
        #expect(SystemClock.iso8601(0, utcOffset: try offset("UTC", at: 0)) == "1970-01-01T00:00:00+00:00")
        #expect(SystemClock.iso8601(-1, utcOffset: 0) == "1969-12-31T23:59:59+00:00")
        #expect(SystemClock.iso8601(-1, utcOffset: 5 * 3600 + 30 * 60) == "1970-01-01T05:29:59+05:30")
    }

    /// The process's own zone (whatever `TZ` the suite runs under: scripts/test's second pass
    /// uses Europe/Rome) gives the same text as at the offset `localtime_r` reports.
    @Test func localFormattingIsTheZonesOffsetFormatting() {
        for seconds in [1_795_921_925.0, 1_782_900_000, 0, -1] {
            var time = time_t(seconds.rounded(.down))
            var parts = tm()
            localtime_r(&time, &parts)
            #expect(SystemClock.iso8601(seconds) == SystemClock.iso8601(seconds, utcOffset: Int(parts.tm_gmtoff)))
            #expect(CalendarDay.local(at: seconds) == CalendarDay(at: seconds, utcOffset: Int(parts.tm_gmtoff)))
        }
    }

    @Test func utcFormattingIgnoresTheZone() {
        #expect(SystemClock.iso8601UTC(1_795_921_925) == "2026-11-29T03:12:05+00:00")
    }

    @Test func localFormattingAgreesWithLocaltime() {
        // Whatever the zone, the text must match localtime_r's fields and offset.
        let now = SystemClock.now
        var time = time_t(now.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        let text = SystemClock.iso8601(now)
        #expect(text.count == 25)
        let offset = Int(parts.tm_gmtoff)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600, minutes = abs(offset) % 3600 / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        #expect(text.hasSuffix("\(sign)\(two(hours)):\(two(minutes))"))
        #expect(text.hasPrefix("\(Int(parts.tm_year) + 1900)-\(two(Int(parts.tm_mon) + 1))-\(two(Int(parts.tm_mday)))T"))
    }

    /// Every second of a long run has the same 25-character shape (its speed is measured by
    /// `scripts/bench --micro`, not here: a timed test fails on a loaded machine).
    @Test func formattingKeepsItsShapeOverARun() {
        var total = 0
        for index in 0..<20_000 { total += SystemClock.iso8601(1_795_921_925 + Double(index)).utf8.count }
        #expect(total == 20_000 * 25)
    }
}

@Suite("Clocks and days")
struct ClockTests {
    @Test func clocksAdvance() async throws {
        let wall = SystemClock.now
        #expect(wall > 1_700_000_000)
        let first = SystemClock.monotonic
        try await Task.sleep(nanoseconds: 20_000_000)
        let second = SystemClock.monotonic
        #expect(second - first >= 0.015)
    }

    @Test func parsesISODays() throws {
        let day = try #require(CalendarDay(iso: "2026-11-29"))
        #expect(day.year == 2026 && day.month == 11 && day.day == 29)
        #expect(day.description == "2026-11-29")
        #expect(CalendarDay(iso: "2024-02-29") != nil)
        #expect(CalendarDay(iso: "2023-02-29") == nil)
        #expect(CalendarDay(iso: "1900-02-29") == nil)
        #expect(CalendarDay(iso: "2000-02-29") != nil)
        #expect(CalendarDay(iso: "2026-13-01") == nil)
        #expect(CalendarDay(iso: "2026-00-10") == nil)
        #expect(CalendarDay(iso: "2026-04-31") == nil)
        #expect(CalendarDay(iso: "2026-1-01") == nil)
        #expect(CalendarDay(iso: "2026-11-29T00:00") == nil)
        #expect(CalendarDay(iso: "2026/11/29") == nil)
        #expect(CalendarDay(iso: "２０２６-11-29") == nil)
        #expect(CalendarDay(iso: "") == nil)
    }

    @Test func daysSinceEpochRoundTrips() throws {
        #expect(CalendarDay(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
        #expect(CalendarDay(year: 1969, month: 12, day: 31)!.daysSinceEpoch == -1)
        #expect(CalendarDay(year: 2026, month: 11, day: 29)!.daysSinceEpoch == 1_795_921_925 / 86_400)
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(CalendarDay(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        let day = try #require(CalendarDay(iso: "2024-02-28"))
        #expect(day.adding(days: 1).description == "2024-02-29")
        #expect(day.adding(days: 2).description == "2024-03-01")
        #expect(day < day.adding(days: 1))
        #expect(CalendarDay(iso: "2025-12-31")! < CalendarDay(iso: "2026-01-01")!)
    }
}

@Suite struct ClockLimitsTests {
    /// A stored time that is not a time (NaN, 1e300, -1e300) prints as some date: the
    /// conversion to time_t used to trap.
    @Test func anyDoublePrintsAsADate() {
        for seconds in [Double.nan, 1e300, -1e300, Double.infinity, 9.3e18] {
            #expect(SystemClock.iso8601UTC(seconds).count == 25, "\(seconds)")
            #expect(!SystemClock.iso8601(seconds).isEmpty)
        }
        #expect(SystemClock.iso8601UTC(1e300) == "9999-12-31T23:59:59+00:00")
    }
}
