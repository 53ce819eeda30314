import Foundation

/// Formats UNIX seconds as UTC ISO-8601.
enum TimeFormat {
    static func iso8601(_ seconds: UInt32) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
    }
}
