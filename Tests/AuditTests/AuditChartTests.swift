import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// The audit page over a long span: coarser bins, long empty stretches collapsed, and a page that fits 1400 px.
@Suite("audit: the time chart over long spans")
struct AuditChartTests {
    @Test("two bursts three years apart: coarser bins, the empty years one hatched gap, every envelope counted")
    func longSpansStayReadable() async throws {
        let dir = try CLI.temporaryDirectory("wa-audit-chart")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A week of hourly traffic in 2021 and another in 2024; nothing in between.
        var envelopes: [Envelope] = []
        for start: UInt32 in [1_609_459_200, 1_704_067_200] {
            for hour in 0..<(7 * 24) {
                for k in 0..<3 {
                    let sent = start + UInt32(hour * 3600 + k * 600)
                    let topic = Topic(rawValue: UInt32(1 + (hour + k) % 3))
                    envelopes.append(Envelope(expiry: sent + 60, ttl: 60, topic: topic, data: SecureRandom.bytes(64), nonce: UInt64(hour * 3 + k)))
                }
            }
        }
        let file = dir.appendingPathComponent("in.rlp")
        try Data(envelopes.flatMap(\.rlp)).write(to: file)
        let archive = dir.appendingPathComponent("a").path
        #expect(try await CLI.run(["import", "--archive", archive, file.path]).status == 0)
        let htmlPath = dir.appendingPathComponent("audit.html").path
        let r = try await CLI.run(["audit", "--archive", archive, "--html", htmlPath, "--min-pow", "0"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let html = try String(contentsOfFile: htmlPath, encoding: .utf8)
        let chart = html.components(separatedBy: "<svg id=\"chart-hours\"")[1].components(separatedBy: "</svg>")[0]
        // 336 busy hours are more than the chart's 240 slots: 3-hour bins, 112 of them and one gap.
        let label = chart.contains("one bar per 3 hours; hatched: 1 empty stretch of 4 or more 3-hour bins, collapsed")
        #expect(label, "\(chart.suffix(300))")
        #expect(chart.components(separatedBy: "class=\"gap\"").count - 1 == 1)
        #expect(chart.components(separatedBy: "<rect class=\"bar\"").count - 1 == 112 * 3)
        let gap = chart.contains("<title>no envelopes from 2021-01-08T00:00:00Z to 2024-01-01T00:00:00Z</title>")
        #expect(gap, "\(chart.prefix(500))")
        let counts = chart.components(separatedBy: "data-count=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(counts.reduce(0, +) == envelopes.count)

        // The page in a 1400 px window: no horizontal scrolling (a copy of it measures itself; the report has no script).
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "chromium is not installed (scripts/install-deps installs it)"
        )
        let probe = dir.appendingPathComponent("probe.html").path
        let measure = "<script>document.title='width='+document.documentElement.scrollWidth</script></body>"
        try html.replacingOccurrences(of: "</body>", with: measure).write(toFile: probe, atomically: true, encoding: .utf8)
        let dom = try await CLI.tool(
            URL(fileURLWithPath: chromium),
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.path)/chromium",
                "--window-size=1400,1000", "--dump-dom", URL(fileURLWithPath: probe).absoluteString,
            ]
        )
        let width = dom.stdout.components(separatedBy: "<title>width=").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect(width != nil && width! <= 1400, "scroll width \(String(describing: width)): \(dom.stderr.suffix(300))")
    }
}
