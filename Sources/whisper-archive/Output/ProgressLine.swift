import Foundation

/// Progress on standard error when it is a terminal; silent when piped.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    private var last = Date.distantPast
    private let start = Date()

    init() { enabled = isatty(2) == 1 }

    /// Shows `count` items done (of `total`, when known), the rate and an ETA; at most 10 times a second.
    func update(_ what: String, count: Int, total: Int? = nil) {
        update(what, count: count, done: total.map { _ in Int64(count) }, of: total.map(Int64.init))
    }

    /// Shows `count` items done, the rate, and, when the work's size is known (`done` of `of`, in any unit: bytes
    /// read, say), the share done and an ETA; at most 10 times a second.
    func update(_ what: String, count: Int, done: Int64?, of total: Int64?) {
        guard enabled, Date().timeIntervalSince(last) >= 0.1 else { return }
        last = Date()
        let elapsed = max(0.001, Date().timeIntervalSince(start))
        let rate = Double(count) / elapsed
        var text = "\r\(what): \(count)"
        if let done, let total, total > 0 {
            let share = min(1, Double(done) / Double(total))
            text += done == Int64(count) ? "/\(total)" : String(format: " (%.0f%%)", share * 100)
            if share > 0 { text += ", ETA \(Self.duration(elapsed * (1 - share) / share))" }
        }
        text += String(format: ", %.0f/s\u{1B}[K", rate)
        writeStandardError(text)
    }

    /// `42s`, `3m05s`, `2h07m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    /// Clears the line.
    func finish() {
        if enabled { writeStandardError("\r\u{1B}[K") }
    }
}
