import MassivaSystem

/// An inclusive range of local calendar days (the report's and the audit's Dal / Al).
public struct DateRange: Sendable, Equatable {
    public var from: CalendarDay?
    public var to: CalendarDay?

    public init(from: CalendarDay? = nil, to: CalendarDay? = nil) {
        self.from = from
        self.to = to
    }

    /// One end of the range.
    public enum Bound: String, Sendable {
        case from, to
    }

    /// Parses the two ends as typed (`YYYY-MM-DD`); a malformed or impossible date, or `from`
    /// after `to`, is bad input.
    public static func parse(from: String?, to: String?) throws(ServiceFailure) -> DateRange {
        func day(_ text: String?, _ bound: Bound) throws(ServiceFailure) -> CalendarDay? {
            guard let text else { return nil }
            guard let day = CalendarDay(iso: text) else { throw .invalid(.notADate(bound, text)) }
            return day
        }
        let range = DateRange(from: try day(from, .from), to: try day(to, .to))
        if let f = range.from, let t = range.to, t < f { throw .invalid(.datesReversed(from: f, to: t)) }
        return range
    }

    /// Whether the local day of `seconds` is within the range.
    public func contains(_ seconds: Double) -> Bool {
        let day = CalendarDay.local(at: seconds)
        if let from, day < from { return false }
        if let to, to < day { return false }
        return true
    }

    /// The range as epoch seconds: `from`'s local midnight (inclusive), the local midnight after
    /// `to` (exclusive).
    public var seconds: (from: Double?, to: Double?) {
        (from.map(Self.localMidnight), to.map { Self.localMidnight($0.adding(days: 1)) })
    }

    /// The first second of `day` in local time (DST decided by the zone).
    public static func localMidnight(_ day: CalendarDay) -> Double { day.localMidnight }
}
