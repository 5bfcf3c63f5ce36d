#if canImport(Glibc)
import Glibc
#endif

/// The system clocks, and ISO 8601 timestamps in local time.
public enum SystemClock {
    /// Wall-clock time (`CLOCK_REALTIME`), seconds since the epoch with fraction.
    public static var now: Double { read(CLOCK_REALTIME) }

    /// Monotonic time (`CLOCK_MONOTONIC`), seconds since an arbitrary start; for intervals.
    public static var monotonic: Double { read(CLOCK_MONOTONIC) }

    /// `seconds` as a `time_t`, clamped to years 0001–9999 (NaN as the epoch): a time read
    /// from stored data prints as some date, never traps in the conversion.
    static func clampedTime(_ seconds: Double) -> time_t {
        guard seconds.isFinite else { return 0 }
        let limit = 253_402_300_799.0  // 9999-12-31T23:59:59Z
        return time_t(min(max(seconds.rounded(.down), -62_135_596_800), limit))
    }

    private static func read(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// `seconds` since the epoch as local time with its UTC offset, to the second (the
    /// fraction is dropped, rounding toward the past), e.g. `2026-11-29T04:12:05+01:00`.
    ///
    /// Uses `localtime_r` and hand formatting: thread-safe and cheap, for thousands of
    /// timestamps per second. The time zone is read from `TZ` once (call `tzset()` after
    /// changing it).
    public static func iso8601(_ seconds: Double) -> String {
        var time = SystemClock.clampedTime(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return format(parts)
    }

    /// Like `iso8601(_:)` but at a UTC offset given in seconds (a zone's offset at that time,
    /// e.g. from tzdata) instead of the process's zone: no `TZ` involved, so a test of a zone's
    /// times changes nothing for the rest of the process.
    public static func iso8601(_ seconds: Double, utcOffset: Int) -> String {
        var time = SystemClock.clampedTime(seconds) + time_t(utcOffset)
        var parts = tm()
        gmtime_r(&time, &parts)
        parts.tm_gmtoff = utcOffset
        return format(parts)
    }

    /// Like `iso8601(_:)` but in UTC, with offset `+00:00`.
    public static func iso8601UTC(_ seconds: Double) -> String {
        var time = SystemClock.clampedTime(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return format(parts)
    }

    private static func format(_ parts: tm) -> String {
        let year = Int(parts.tm_year) + 1900
        var offset = Int(parts.tm_gmtoff)
        let sign: UInt8 = offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
        offset = abs(offset)
        guard (0...9999).contains(year) else {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return "\(year)-\(two(Int(parts.tm_mon) + 1))-\(two(Int(parts.tm_mday)))T"
                + "\(two(Int(parts.tm_hour))):\(two(Int(parts.tm_min))):\(two(Int(parts.tm_sec)))"
                + "\(sign == UInt8(ascii: "-") ? "-" : "+")\(two(offset / 3600)):\(two(offset % 3600 / 60))"
        }
        return String(unsafeUninitializedCapacity: 25) { buffer in
            func put(_ value: Int, _ width: Int, at index: Int) {
                var value = value
                for position in stride(from: index + width - 1, through: index, by: -1) {
                    buffer[position] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(Int(parts.tm_mon) + 1, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(Int(parts.tm_mday), 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(Int(parts.tm_hour), 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(Int(parts.tm_min), 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(Int(parts.tm_sec), 2, at: 17)
            buffer[19] = sign
            put(offset / 3600 % 100, 2, at: 20)
            buffer[22] = UInt8(ascii: ":")
            put(offset % 3600 / 60, 2, at: 23)
            return 25
        }
    }
}

/// A day of the proleptic Gregorian calendar, e.g. parsed from `2026-11-29`.
public struct CalendarDay: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// The year, e.g. 2026.
    public let year: Int
    /// The month, 1...12.
    public let month: Int
    /// The day of the month, 1...31.
    public let day: Int

    /// A day from its parts, or nil if the date does not exist (e.g. February 30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1,
              day <= CalendarDay.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD` (four, two and two ASCII digits); nil otherwise or if the
    /// date does not exist.
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The day `days` after 1970-01-01 (negative: before).
    public init(daysSinceEpoch days: Int) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The local calendar day containing `seconds` since the epoch (`localtime_r`).
    public static func local(at seconds: Double) -> CalendarDay {
        var time = SystemClock.clampedTime(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return CalendarDay(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1,
                           day: Int(parts.tm_mday))!
    }

    /// The calendar day containing `seconds` since the epoch at a UTC offset given in seconds
    /// (see `SystemClock.iso8601(_:utcOffset:)`).
    public init(at seconds: Double, utcOffset: Int) {
        var time = SystemClock.clampedTime(seconds) + time_t(utcOffset)
        var parts = tm()
        gmtime_r(&time, &parts)
        self.init(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday))!
    }

    /// The first second of this day in local time (`mktime`, DST decided by the zone).
    public var localMidnight: Double {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_isdst = -1
        return Double(mktime(&parts))
    }

    /// Days from 1970-01-01 to this day (negative before it).
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day `count` days later (earlier if negative).
    public func adding(days count: Int) -> CalendarDay {
        CalendarDay(daysSinceEpoch: daysSinceEpoch + count)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Chronological order.
    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeap(year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// Number of days in `month` (1...12) of `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year: year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
