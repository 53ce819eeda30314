import NIOConcurrencyHelpers

/// Why the last value refused by an argument type was refused.
///
/// `ExpressibleByArgument.init?(argument:)` can only answer nil, and argument-parser then says no more than
/// "the value is invalid for --flag"; the types record their reason here, and `main` adds it to that line.
enum ArgumentFailure {
    private static let last = NIOLockedValueBox<(value: String, reason: String)?>(nil)

    /// Records why `value` was refused.
    static func record(value: String, reason: String) {
        last.withLockedValue { $0 = (value, reason) }
    }

    /// The reason recorded for `value`, if it was the last value refused.
    static func reason(for message: String) -> String? {
        last.withLockedValue { entry in
            guard let entry, message.contains("'\(entry.value)'") else { return nil }
            return entry.reason
        }
    }
}
