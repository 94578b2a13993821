import PromQLSyntax

/// The date functions (`year`, `hour`, `day_of_week`, ...): a field of the UTC date at a number of Unix
/// seconds, computed as Go's `time` package does (Prometheus' `time.Unix(int64(v), 0).UTC()`), so that
/// fractions, NaN, infinities and dates far outside the Gregorian era give Prometheus' answers, not a trap.
enum DateField: String {
    case dayOfMonth = "day_of_month"
    case dayOfWeek = "day_of_week"
    case dayOfYear = "day_of_year"
    case daysInMonth = "days_in_month"
    case hour, minute, month, year

    /// The field at `unixSeconds` (truncated to whole seconds as Go's `int64()` does).
    func value(unixSeconds: Double) -> Double {
        let date = GoDate(unixSeconds: GoConversion.int64(unixSeconds))
        switch self {
        case .dayOfMonth: return Double(date.day)
        case .dayOfWeek: return Double(date.weekday)
        case .dayOfYear: return Double(date.dayOfYear)
        case .daysInMonth: return Double(date.daysInMonth)
        case .hour: return Double(date.secondOfDay / 3600)
        case .minute: return Double(date.secondOfDay % 3600 / 60)
        case .month: return Double(date.month)
        case .year: return Double(date.year)
        }
    }
}

/// A UTC date by Go's algorithm (time.go `absDate`): seconds counted from Go's absolute zero year in an
/// unsigned, wrapping integer, split into 400-, 100-, 4- and 1-year cycles.
struct GoDate {
    var year: Int64
    /// 1...12.
    var month: Int
    /// 1...31.
    var day: Int
    /// 1...366.
    var dayOfYear: Int
    /// 0 (Sunday)...6.
    var weekday: Int
    var secondOfDay: Int

    private static let secondsPerDay: UInt64 = 86_400
    private static let absoluteZeroYear: Int64 = -292_277_022_399
    /// Go's `unixToInternal + internalToAbsolute`: Unix seconds to seconds since the absolute zero year.
    private static let unixToAbsolute: Int64 = 62_135_596_800 &+ 9_223_371_966_579_724_800
    /// Days before each month in a common year (Go's `daysBefore`).
    private static let daysBefore = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]

    init(unixSeconds: Int64) {
        let absolute = UInt64(bitPattern: unixSeconds &+ Self.unixToAbsolute)
        secondOfDay = Int(absolute % Self.secondsPerDay)
        // January 1 of the absolute zero year was a Monday.
        weekday = Int((absolute &+ Self.secondsPerDay) % (7 * Self.secondsPerDay) / Self.secondsPerDay)
        var days = absolute / Self.secondsPerDay
        var cycles = days / 146_097
        var years = 400 * cycles
        days -= 146_097 * cycles
        cycles = days / 36_524
        cycles -= cycles >> 2
        years += 100 * cycles
        days -= 36_524 * cycles
        cycles = days / 1_461
        years += 4 * cycles
        days -= 1_461 * cycles
        cycles = days / 365
        cycles -= cycles >> 2
        years += cycles
        days -= 365 * cycles
        year = Int64(bitPattern: years) &+ Self.absoluteZeroYear
        let yearDay = Int(days)
        dayOfYear = yearDay + 1
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        var dayInYear = yearDay
        if leap, dayInYear == 31 + 29 - 1 {
            (month, day) = (2, 29)
            return
        }
        if leap, dayInYear > 31 + 29 - 1 { dayInYear -= 1 }
        var estimate = dayInYear / 31
        let end = Self.daysBefore[estimate + 1]
        let begin: Int
        if dayInYear >= end {
            estimate += 1
            begin = end
        } else {
            begin = Self.daysBefore[estimate]
        }
        month = estimate + 1
        day = dayInYear - begin + 1
    }

    /// Days in this date's month.
    var daysInMonth: Int {
        if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
        return Self.daysBefore[month] - Self.daysBefore[month - 1]
    }
}
