import Foundation

/// Progress on standard error when it is a terminal; silent when piped.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    private var last = Date.distantPast
    private let start = Date()

    init() { enabled = isatty(2) == 1 }

    /// Shows `count` items done (of `total`, when known), the rate and an ETA; at most 10 times a second.
    func update(_ what: String, count: Int, total: Int? = nil) {
        guard enabled, Date().timeIntervalSince(last) >= 0.1 else { return }
        last = Date()
        let elapsed = max(0.001, Date().timeIntervalSince(start))
        let rate = Double(count) / elapsed
        var text = "\r\(what): \(count)"
        if let total, total > 0 {
            text += "/\(total)"
            if rate > 0 { text += ", ETA \(Int(Double(total - count) / rate))s" }
        }
        text += String(format: ", %.0f/s   ", rate)
        writeStandardError(text)
    }

    /// Clears the line.
    func finish() {
        if enabled { writeStandardError("\r\u{1B}[K") }
    }
}
