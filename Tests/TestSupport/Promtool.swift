import Foundation

/// Prometheus's `promtool check metrics` (Debian's `prometheus` package, which scripts/install-deps installs).
public enum Promtool {
    /// The binary.
    public static let path = URL(fileURLWithPath: "/usr/bin/promtool")

    /// The one lint finding status-go's names impose: its archived-envelopes gauge is named like a counter.
    public static let statusGoGaugeName = #"mailserver_archived_envelopes_total non-counter metrics should not have "_total" suffix"#

    /// Lints an exposition: promtool's exit status and its findings, one per line (exit 1: the text does not parse;
    /// 3: lint findings only).
    public static func check(_ exposition: String) async throws -> (status: Int32, findings: [String]) {
        guard FileManager.default.isExecutableFile(atPath: path.path) else {
            throw VectorError("no \(path.path): install Debian's prometheus package (scripts/install-deps does)")
        }
        let r = try await CLI.tool(path, ["check", "metrics"], stdin: Array(exposition.utf8))
        let findings = (r.stdout + r.stderr).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        return (r.status, findings)
    }
}
