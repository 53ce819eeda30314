import ArgumentParser

/// A point in time on the command line, parsed strictly: nothing is guessed.
///
/// Accepted forms (every time is UTC unless it carries an offset):
/// - RFC 3339 / ISO 8601 with a zone: `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.250+02:00` (the fraction is
///   dropped: times are whole seconds);
/// - a date alone: `2024-05-01` means `2024-05-01T00:00:00Z`;
/// - Unix seconds: `1714521600`.
///
/// Anything else — no zone, no seconds, a space for `T`, trailing text, a day that does not exist, a time
/// outside 1970-01-01T00:00:00Z…2106-02-07T06:28:15Z — is refused with the reason.
struct TimeArgument: ExpressibleByArgument, Sendable, Equatable {
    var seconds: UInt32

    init(seconds: UInt32) { self.seconds = seconds }

    init?(argument: String) {
        switch Self.parse(argument) {
        case .success(let s):
            seconds = s
        case .failure(let reason):
            ArgumentFailure.record(value: argument, reason: reason.text + "; " + Self.acceptedForms)
            return nil
        }
    }

    static var defaultValueDescription: String { "RFC 3339 with Z or an offset, a date, or Unix seconds" }

    /// The forms named in every refusal.
    static let acceptedForms =
        "give RFC 3339 with Z or a numeric offset (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00), "
        + "a date (2024-05-01, midnight UTC) or Unix seconds (1714564800)"

    /// Why a text is not a time.
    struct Refusal: Error, Equatable {
        var text: String
        init(_ text: String) { self.text = text }
    }

    /// Parses `text` as one of the accepted forms, into Unix seconds.
    static func parse(_ text: String) -> Result<UInt32, Refusal> {
        let b = Array(text.utf8)
        if b.isEmpty { return .failure(Refusal("empty time")) }
        if b.allSatisfy(isDigit) {
            guard b.count <= 10, let s = UInt32(text) else { return .failure(Refusal("Unix seconds beyond 4294967295 (2106-02-07T06:28:15Z)")) }
            return .success(s)
        }
        var p = Cursor(bytes: b)
        guard let year = p.digits(4), p.take(UInt8(ascii: "-")), let month = p.digits(2), p.take(UInt8(ascii: "-")),
            let day = p.digits(2)
        else {
            return .failure(Refusal("not a date YYYY-MM-DD, nor Unix seconds"))
        }
        guard (1...12).contains(month) else { return .failure(Refusal("month \(month) does not exist")) }
        guard (1...daysIn(month: month, year: year)).contains(day) else {
            return .failure(Refusal("day \(day) does not exist in \(year)-\(twoDigits(month))"))
        }
        var total = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if !p.atEnd {
            guard p.take(UInt8(ascii: "T")) || p.take(UInt8(ascii: "t")) else {
                return .failure(Refusal("unexpected text after the date (the time needs a T, as in 2024-05-01T12:00:00Z)"))
            }
            guard let hour = p.digits(2), p.take(UInt8(ascii: ":")), let minute = p.digits(2) else {
                return .failure(Refusal("the time of day must be HH:MM:SS"))
            }
            guard p.take(UInt8(ascii: ":")), let second = p.digits(2) else {
                return .failure(Refusal("the time of day has no seconds (HH:MM:SS)"))
            }
            guard hour <= 23, minute <= 59, second <= 59 else {
                return .failure(Refusal("\(twoDigits(hour)):\(twoDigits(minute)):\(twoDigits(second)) is not a time of day"))
            }
            if p.take(UInt8(ascii: ".")) {
                guard p.skipDigits() > 0 else { return .failure(Refusal("a fraction of a second needs digits after the point")) }
            }
            if p.atEnd { return .failure(Refusal("no time zone (add Z for UTC, or an offset such as +02:00)")) }
            var offset = 0
            if p.take(UInt8(ascii: "Z")) || p.take(UInt8(ascii: "z")) {
                offset = 0
            } else if let sign = p.sign() {
                guard let oh = p.digits(2), p.take(UInt8(ascii: ":")), let om = p.digits(2) else {
                    return .failure(Refusal("the offset must be +HH:MM or -HH:MM"))
                }
                guard oh <= 23, om <= 59 else { return .failure(Refusal("offset \(twoDigits(oh)):\(twoDigits(om)) is out of range")) }
                offset = sign * (oh * 3600 + om * 60)
            } else {
                return .failure(Refusal("unexpected text where the time zone belongs (Z or +HH:MM)"))
            }
            guard p.atEnd else { return .failure(Refusal("unexpected text after the time zone")) }
            total += Int64(hour * 3600 + minute * 60 + second - offset)
        }
        guard total >= 0, total <= Int64(UInt32.max) else {
            return .failure(Refusal("outside 1970-01-01T00:00:00Z…2106-02-07T06:28:15Z (Unix seconds must fit 32 bits)"))
        }
        return .success(UInt32(total))
    }

    /// The reader over the bytes of a time.
    private struct Cursor {
        let bytes: [UInt8]
        var i = 0
        var atEnd: Bool { i == bytes.count }

        mutating func take(_ c: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == c else { return false }
            i += 1
            return true
        }

        /// Exactly `n` digits as a number.
        mutating func digits(_ n: Int) -> Int? {
            guard i + n <= bytes.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard isDigit(bytes[k]) else { return nil }
                v = v * 10 + Int(bytes[k] - UInt8(ascii: "0"))
            }
            // More digits than the field holds is not this field.
            if i + n < bytes.count, isDigit(bytes[i + n]) { return nil }
            i += n
            return v
        }

        mutating func skipDigits() -> Int {
            let start = i
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            return i - start
        }

        mutating func sign() -> Int? {
            if take(UInt8(ascii: "+")) { return 1 }
            if take(UInt8(ascii: "-")) { return -1 }
            return nil
        }
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static func twoDigits(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (years 0…9999).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        // Count from March, so that the leap day is the last day of the counted year.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
