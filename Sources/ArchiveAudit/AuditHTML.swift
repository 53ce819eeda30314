import Foundation

/// Renders an ``AuditReport`` as one self-contained HTML page: inline SVG charts and tables, no scripts, no external files.
public enum AuditHTML {
    /// Colours of the eight busiest topics in the hourly chart; the rest are drawn as "other".
    public static let topicColors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"]
    /// Colour of the remaining topics in the hourly chart.
    public static let otherColor = "#bab0ac"
    /// Bar colour of the size histogram.
    public static let sizeColor = "#2a9d8f"
    /// Bar colour of the proof-of-work histogram.
    public static let powColor = "#e76f51"
    /// Bar colour of the TTL histogram.
    public static let ttlColor = "#8e6cc4"
    /// Anomaly rows shown in the table (all are counted).
    public static let maxAnomalyRows = 2000

    /// The page.
    public static func render(_ report: AuditReport, title: String = "whisper-archive audit") -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
            h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:24px 0 6px}
            table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
            th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
            code{font:12px ui-monospace,monospace}.legend span{display:inline-block;margin-right:14px}
            .sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
            svg text{font:11px system-ui,sans-serif;fill:#444}svg{max-width:100%;height:auto}
            body{max-width:1320px}td code{overflow-wrap:anywhere}
            </style></head><body>
            <h1>\(esc(title))</h1>

            """
        let range = report.firstSent.map { "sent \(iso($0)) – \(iso(report.lastSent ?? $0))" } ?? "no envelopes"
        h += "<p>\(report.envelopes) envelopes, \(report.bytes) bytes of RLP, \(report.topics.count) topics; \(esc(range)); "
        h += "\(report.anomalies.count) anomalies; audited in \(String(format: "%.2f", report.seconds)) s.</p>\n"
        if !report.skipped.isEmpty {
            h += "<p id=\"skipped\"><strong>Damaged data was skipped; this report does not cover it:</strong></p><ul>\n"
            for d in report.skipped { h += "<li>\(esc(d.file)) bytes \(d.start)..<\(d.end): \(esc(d.reason))</li>\n" }
            h += "</ul>\n"
        }
        if report.arrivalUnknown > 0 {
            h += "<p id=\"arrival-unknown\">\(report.arrivalUnknown) envelopes have no known arrival time "
            h += "(imported from a source that keeps none): the future-dated and expired-on-arrival checks could not judge them.</p>\n"
        }

        h += "<h2>Envelopes per hour and topic</h2>\n" + hourChart(report) + "\n"
        h += "<h2>Envelope sizes (20 + len(Data))</h2>\n"
        h += barChart(id: "chart-sizes", report.sizes, color: sizeColor) + "\n"
        h += "<h2>Proof of work</h2>\n" + barChart(id: "chart-pow", report.pows, color: powColor) + "\n"
        h += "<h2>TTL</h2>\n" + barChart(id: "chart-ttl", report.ttls, color: ttlColor) + "\n"

        h += "<h2>Topics</h2>\n<table id=\"topics\"><tr><th>topic</th><th>envelopes</th><th>bytes</th><th>first sent</th><th>last sent</th></tr>\n"
        for t in report.topics {
            h += "<tr><td><code>\(t.topic)</code></td><td class=n>\(t.count)</td><td class=n>\(t.bytes)</td>"
            h += "<td>\(iso(t.firstSent))</td><td>\(iso(t.lastSent))</td></tr>\n"
        }
        h += "</table>\n"

        h += "<h2>Anomalies</h2>\n<table id=\"anomaly-counts\"><tr><th>kind</th><th>envelopes</th></tr>\n"
        for k in AuditReport.AnomalyKind.allCases {
            h += "<tr><td>\(k.rawValue)</td><td class=n>\(report.anomalyCounts[k.rawValue] ?? 0)</td></tr>\n"
        }
        h += "</table>\n"
        if !report.anomalies.isEmpty {
            h += "<table id=\"anomalies\"><tr><th>kind</th><th>envelope</th><th>topic</th><th>sent</th><th>arrival</th><th>detail</th></tr>\n"
            for a in report.anomalies.prefix(maxAnomalyRows) {
                h += "<tr><td>\(a.kind.rawValue)</td><td><code>\(a.hash)</code></td><td><code>\(a.topic)</code></td>"
                h += "<td>\(iso(a.sent))</td><td>\(a.arrival.map(iso) ?? "")</td><td>\(esc(a.detail))"
                if let f = a.firstHash { h += " (first: <code>\(f)</code>)" }
                h += "</td></tr>\n"
            }
            h += "</table>\n"
            if report.anomalies.count > maxAnomalyRows {
                h += "<p>\(report.anomalies.count - maxAnomalyRows) more anomalies are in the JSON report (--json).</p>\n"
            }
        }

        if !report.keys.isEmpty {
            h +=
                "<h2>Keys</h2>\n<table id=\"keys\"><tr><th>key</th><th>opened</th><th>unsigned</th><th>payload bytes</th><th>payload sizes</th></tr>\n"
            for k in report.keys {
                let sizes = k.payloadSizeMin.map { "\($0)–\(k.payloadSizeMax ?? $0)" } ?? ""
                h += "<tr><td>\(esc(k.label))</td><td class=n>\(k.opened)</td><td class=n>\(k.unsigned)</td>"
                h += "<td class=n>\(k.payloadBytes)</td><td>\(sizes)</td></tr>\n"
            }
            h += "</table>\n<h2>Signers</h2>\n<table id=\"signers\"><tr><th>public key</th><th>envelopes</th><th>opened with</th></tr>\n"
            for s in report.signers {
                h += "<tr><td><code>\(s.publicKey)</code></td><td class=n>\(s.count)</td><td>\(esc(s.keys.joined(separator: ", ")))</td></tr>\n"
            }
            h += "</table>\n"
        }
        if let payloads = report.payloads, !payloads.isEmpty {
            h += "<h2>Payloads</h2>\n<table id=\"payloads\"><tr><th>envelope</th><th>key</th><th>signer</th><th>payload</th></tr>\n"
            for p in payloads {
                h += "<tr><td><code>\(p.hash)</code></td><td>\(esc(p.key))</td><td><code>\(p.signer ?? "")</code></td>"
                h += "<td>\(p.text.map { esc($0) } ?? "<code>\(p.payload)</code>")</td></tr>\n"
            }
            h += "</table>\n"
        }
        h += "</body></html>\n"
        return h
    }

    // MARK: charts

    static let chartWidth = 1100.0
    static let chartHeight = 240.0
    static let left = 56.0, right = 12.0, top = 12.0, bottom = 72.0

    /// The bin widths of the time chart, in hours, tried in order: the first that needs at most ``maxTimeBars``
    /// slots (bars and collapsed gaps) is used, so an archive of a few days gets hourly bars and one of years weekly
    /// or monthly ones, each still several pixels wide.
    public static let binHours = [1, 3, 6, 12, 24, 24 * 7, 24 * 30, 24 * 365]
    /// Most slots the time chart draws (about 4 px each).
    public static let maxTimeBars = 240
    /// A run of at least this many empty bins is drawn as one narrow gap, labelled with the time it spans, so two
    /// busy stretches far apart stay readable.
    public static let collapsedGap = 4

    /// One slot of the time chart: a bin of `hours` from `start` with its stack, or a collapsed empty stretch.
    enum TimeSlot {
        case bin(start: UInt32, stack: [Int])
        case gap(from: UInt32, to: UInt32)
    }

    /// The slots of the time chart for bins of `hours`: each bin holds the counts of the busiest topics and "other".
    static func timeSlots(_ report: AuditReport, hours: Int, busiest: [String]) -> [TimeSlot] {
        guard let firstHour = report.hours.first?.hour else { return [] }
        let width = UInt32(hours) * 3600
        let origin = firstHour - firstHour % (hours >= 24 ? 86_400 : 3600)
        var bins: [UInt32: [Int]] = [:]
        for hour in report.hours {
            let b = (hour.hour - origin) / width
            var stack = bins[b] ?? [Int](repeating: 0, count: busiest.count + 1)
            for (topic, n) in hour.topics { stack[busiest.firstIndex(of: topic) ?? busiest.count] += n }
            bins[b] = stack
        }
        var slots: [TimeSlot] = []
        var previous: UInt32?
        for b in bins.keys.sorted() {
            if let p = previous, b > p + 1 {
                let empty = Int(b - p - 1)
                if empty >= collapsedGap {
                    slots.append(.gap(from: origin + (p + 1) * width, to: origin + b * width))
                } else {
                    for k in 1...empty { slots.append(.bin(start: origin + (p + UInt32(k)) * width, stack: [])) }
                }
            }
            slots.append(.bin(start: origin + b * width, stack: bins[b]!))
            previous = b
        }
        return slots
    }

    /// "hour", "3 hours", "day", "week", "30 days", "year"; with `plural`, "hours", "3-hour bins", "days", …
    static func binName(_ hours: Int, plural: Bool = false) -> String {
        let name: String
        switch hours {
        case 1: name = "hour"
        case 24: name = "day"
        case 24 * 7: name = "week"
        case 24 * 365: name = "year"
        case let h where h % 24 == 0: return plural ? "\(h / 24)-day bins" : "\(h / 24) days"
        default: return plural ? "\(hours)-hour bins" : "\(hours) hours"
        }
        return plural ? name + "s" : name
    }

    /// A stacked bar per hour (or per day, week, … when the span is long), one colour per busy topic; long empty
    /// stretches collapse into a narrow hatched gap.
    static func hourChart(_ report: AuditReport) -> String {
        guard !report.hours.isEmpty else { return "<p>No envelopes.</p>" }
        let busiest = Array(report.topics.prefix(topicColors.count).map(\.topic))
        var hours = binHours.last!
        var slots: [TimeSlot] = []
        for h in binHours {
            slots = timeSlots(report, hours: h, busiest: busiest)
            hours = h
            if slots.count <= maxTimeBars { break }
        }
        let maxTotal = max(1, slots.map { if case .bin(_, let stack) = $0 { return stack.reduce(0, +) } else { return 0 } }.max() ?? 1)
        let plotW = chartWidth - left - right
        let plotH = chartHeight - top - bottom
        let barW = plotW / Double(max(1, slots.count))
        var s = svgOpen(id: "chart-hours") + axes(maxValue: maxTotal)
        s += "<defs><pattern id=\"gap\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
        s += "<rect width=\"2\" height=\"4\" fill=\"#d8d8d8\"/></pattern></defs>"
        var gaps = 0
        for (i, slot) in slots.enumerated() {
            let x = left + Double(i) * barW
            switch slot {
            case .gap(let from, let to):
                gaps += 1
                s += "<rect class=\"gap\" x=\"\(f(x))\" y=\"\(f(top))\" width=\"\(f(max(1, barW)))\" height=\"\(f(plotH))\" fill=\"url(#gap)\">"
                s += "<title>no envelopes from \(iso(from)) to \(iso(to))</title></rect>"
            case .bin(let start, let stack):
                var y = top + plotH
                for (k, n) in stack.enumerated() where n > 0 {
                    let hgt = plotH * Double(n) / Double(maxTotal)
                    y -= hgt
                    let color = k < busiest.count ? topicColors[k] : otherColor
                    let name = k < busiest.count ? busiest[k] : "other"
                    s += "<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(1, barW - (barW > 3 ? 1 : 0))))\" "
                    s += "height=\"\(f(hgt))\" fill=\"\(color)\" data-count=\"\(n)\"><title>\(iso(start)) \(name): \(n)</title></rect>"
                }
            }
        }
        // Time ticks: up to 8 labels, on bins (a gap has no single time).
        let binSlots = slots.indices.filter { if case .bin = slots[$0] { return true } else { return false } }
        let ticks = min(8, binSlots.count)
        for k in 0..<ticks {
            let i = binSlots[ticks == 1 ? 0 : k * (binSlots.count - 1) / (ticks - 1)]
            guard case .bin(let start, _) = slots[i] else { continue }
            let x = left + (Double(i) + 0.5) * barW
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(hours >= 24 ? String(shortTime(start).prefix(10)) : shortTime(start))</text>"
        }
        let note = gaps > 0 ? "; hatched: \(gaps) empty stretch\(gaps == 1 ? "" : "es") of \(collapsedGap) or more \(binName(hours, plural: true)), collapsed" : ""
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(chartHeight - 8))\" text-anchor=\"middle\">sent time (UTC), one bar per \(binName(hours))\(note)</text>"
        s += "</svg>\n<div class=\"legend\">"
        for (i, t) in busiest.enumerated() {
            s += "<span><i class=\"sw\" style=\"background:\(topicColors[i])\"></i><code>\(t)</code></span>"
        }
        if report.topics.count > busiest.count {
            s += "<span><i class=\"sw\" style=\"background:\(otherColor)\"></i>other topics</span>"
        }
        return s + "</div>"
    }

    /// A bar per histogram bucket.
    static func barChart(id: String, _ histogram: Histogram, color: String) -> String {
        let buckets = histogram.buckets
        let maxCount = max(1, buckets.map(\.count).max() ?? 1)
        let plotW = chartWidth - left - right
        let plotH = chartHeight - top - bottom
        let barW = plotW / Double(max(1, buckets.count))
        var s = svgOpen(id: id) + axes(maxValue: maxCount)
        for (i, b) in buckets.enumerated() {
            let x = left + Double(i) * barW
            if b.count > 0 {
                let hgt = max(1, plotH * Double(b.count) / Double(maxCount))
                s += "<rect class=\"bar\" x=\"\(f(x + 1))\" y=\"\(f(top + plotH - hgt))\" width=\"\(f(max(1, barW - 2)))\" height=\"\(f(hgt))\" "
                s += "fill=\"\(color)\" data-count=\"\(b.count)\"><title>\(esc(b.label)): \(b.count)</title></rect>"
            }
            let lx = x + barW / 2
            let ly = top + plotH + 10
            s += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" text-anchor=\"end\" transform=\"rotate(-40 \(f(lx)) \(f(ly)))\">\(esc(b.label))</text>"
        }
        return s + "</svg>"
    }

    static func svgOpen(id: String) -> String {
        "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(chartWidth))\" height=\"\(f(chartHeight))\" viewBox=\"0 0 \(f(chartWidth)) \(f(chartHeight))\">"
    }

    /// Y axis with three gridlines (0, half, max) and the X axis line.
    static func axes(maxValue: Int) -> String {
        let plotW = chartWidth - left - right
        let plotH = chartHeight - top - bottom
        var s = ""
        for (frac, value) in [(0.0, 0), (0.5, maxValue / 2), (1.0, maxValue)] {
            let y = top + plotH * (1 - frac)
            s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#e4e4e4\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(value)</text>"
        }
        s += "<path d=\"M\(f(left)) \(f(top))V\(f(top + plotH))H\(f(left + plotW))\" stroke=\"#888\" fill=\"none\"/>"
        return s
    }

    // MARK: text

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func iso(_ t: UInt32) -> String {
        Date(timeIntervalSince1970: TimeInterval(t)).formatted(.iso8601)
    }

    static func shortTime(_ t: UInt32) -> String {
        let s = iso(t)  // 2024-05-01T12:00:00Z
        return String(s.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
