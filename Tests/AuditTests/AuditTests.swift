import ArchiveAudit
import ArchiveStore
import EthCrypto
import Foundation
import TestSupport
import Testing
import Whisper

/// An archive whose contents, keys and timings the test chose, and what an audit must find in it.
struct AuditScenario {
    static let t0: UInt32 = 1_699_999_200  // an hour boundary
    static let password = "audit-test-password"
    static let topicA = Topic(rawValue: 0xA1A1_A1A1), topicB = Topic(rawValue: 0xB2B2_B2B2), topicC = Topic(rawValue: 0xC3C3_C3C3)

    var envelopes: [Envelope] = []
    var arrivals: [UInt32] = []
    let signer1 = PrivateKey.generate(), signer2 = PrivateKey.generate(), recipient = PrivateKey.generate()
    var futureDated = Set<String>(), expired = Set<String>(), lowPoW = Set<String>(), oversize = Set<String>()
    var duplicateData = Set<String>(), duplicateMessage = Set<String>()

    init() throws {
        var rng = SplitMix(seed: 42)
        func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let sym = SealingKey.password(Self.password)
        // Hour 0: ten password messages on topic A (5 signed by signer1, 3 by signer2, 2 unsigned), and a
        // re-encrypted copy of the last one.
        for i in 0..<11 {
            let signer: PrivateKey? = i < 5 ? signer1 : i < 8 ? signer2 : nil
            let payload = Array("pw-\(min(i, 9))".utf8)
            let e = try Envelope.seal(
                payload: payload,
                topic: Self.topicA,
                key: sym,
                signer: signer,
                ttl: 60,
                targetPoW: 0.002,
                now: Self.t0 + UInt32(i * 60)
            )
            add(e, arrival: e.sentTime + 1)
            if i == 10 { duplicateMessage.insert("0x" + e.hash.hex) }
        }
        // Hour 1: four ECIES messages to `recipient` on topic B, signed by signer1.
        for j in 0..<4 {
            let e = try Envelope.seal(
                payload: Array("asym-\(j)".utf8),
                topic: Self.topicB,
                key: .asymmetric(recipient.publicKey),
                signer: signer1,
                ttl: 60,
                targetPoW: 0.002,
                now: Self.t0 + 3600 + UInt32(j * 100)
            )
            add(e, arrival: e.sentTime + 2)
        }
        // Hours 0–2: twenty random envelopes on topic C.
        var cData: [[UInt8]] = []
        for k in 0..<20 {
            let data = random(100 + k * 7)
            cData.append(data)
            let sent = Self.t0 + UInt32(k % 3) * 3600 + UInt32(k * 30)
            add(Envelope.seal(expiry: sent + 60, ttl: 60, topic: Self.topicC, data: data, targetPoW: 0.002), arrival: sent + 1)
        }
        // Hour 3: the anomalies.
        let h3 = Self.t0 + 3 * 3600
        for k in 0..<2 {  // the same Data as earlier C envelopes, another expiry
            let e = Envelope.seal(expiry: h3 + 500 + UInt32(k), ttl: 500, topic: Self.topicC, data: cData[k], targetPoW: 0.002)
            add(e, arrival: h3 + UInt32(k) + 1)
            duplicateData.insert("0x" + e.hash.hex)
        }
        for k in 0..<2 {  // sent 100 s after arrival
            let e = Envelope.seal(expiry: h3 + 100 + 60, ttl: 60, topic: Self.topicC, data: random(64 + k), targetPoW: 0.002)
            add(e, arrival: h3 + UInt32(k))
            futureDated.insert("0x" + e.hash.hex)
        }
        for k in 0..<3 {  // arrived 50 s after expiry
            let e = Envelope.seal(expiry: h3 + 60 + UInt32(k), ttl: 60, topic: Self.topicC, data: random(80 + k), targetPoW: 0.002)
            add(e, arrival: e.expiry + 50)
            expired.insert("0x" + e.hash.hex)
        }
        for k in 0..<4 {  // a week's TTL and no work: PoW far below 0.001
            let e = Envelope(expiry: h3 + 604_800, ttl: 604_800, topic: Self.topicC, data: random(1000 + k), nonce: 0)
            add(e, arrival: h3 + 1)
            lowPoW.insert("0x" + e.hash.hex)
        }
        for k in 0..<2 {  // larger than --max-size 2000
            let e = Envelope.seal(expiry: h3 + 60, ttl: 60, topic: Self.topicC, data: random(3000 + k), targetPoW: 0.001)
            add(e, arrival: h3 + 1)
            oversize.insert("0x" + e.hash.hex)
        }
    }

    mutating func add(_ e: Envelope, arrival: UInt32) {
        envelopes.append(e)
        arrivals.append(arrival)
    }

    /// Writes the archive and the recipient's key file; returns the archive directory.
    func write(into dir: URL) async throws -> String {
        let path = dir.path + "/archive"
        let archive = try Archive(directory: path)
        _ = try await archive.append(envelopes, arrivals: arrivals)
        archive.close()
        let key = dir.path + "/recipient.key"
        try Data((recipient.bytes.hex + "\n").utf8).write(to: URL(fileURLWithPath: key))
        return path
    }
}

@Suite("AuditTests")
struct AuditTests {
    @Test func countsAnomaliesAndSignersMatchTheGeneratedData() async throws {
        let scenario = try AuditScenario()
        let dir = try CLI.temporaryDirectory("wa-audit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = try await scenario.write(into: dir)
        let r = try await CLI.run([
            "audit", "--archive", archive, "--json", "--min-pow", "0.001", "--max-size", "2000",
            "--password", AuditScenario.password, "--password", "not-the-password",
            "--private-key", dir.path + "/recipient.key", "--show-payloads",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(AuditReport.self, from: Data(r.stdout.utf8))

        #expect(report.envelopes == scenario.envelopes.count)
        #expect(report.bytes == scenario.envelopes.reduce(0) { $0 + $1.rlp.count })
        // Per topic and per hour, from the generator's own sent times.
        var perTopic: [String: Int] = [:]
        var perHour: [UInt32: [String: Int]] = [:]
        for e in scenario.envelopes {
            perTopic[e.topic.description, default: 0] += 1
            perHour[e.sentTime - e.sentTime % 3600, default: [:]][e.topic.description, default: 0] += 1
        }
        #expect(Dictionary(uniqueKeysWithValues: report.topics.map { ($0.topic, $0.count) }) == perTopic)
        #expect(report.hours.map(\.hour) == perHour.keys.sorted())
        for h in report.hours { #expect(h.topics == perHour[h.hour], "hour \(h.hour)") }
        #expect(report.sizes.total == scenario.envelopes.count)
        #expect(report.pows.total == scenario.envelopes.count)
        #expect(report.ttls.buckets.first { $0.lower == 86_400 }?.count == 0)
        #expect(report.ttls.buckets.first { $0.lower == 604_800 }?.count == 4)

        func hashes(_ kind: AuditReport.AnomalyKind) -> Set<String> { Set(report.anomalies.filter { $0.kind == kind }.map(\.hash)) }
        #expect(hashes(.futureDated) == scenario.futureDated)
        #expect(hashes(.expiredOnArrival) == scenario.expired)
        #expect(hashes(.lowPoW) == scenario.lowPoW)
        #expect(hashes(.oversize) == scenario.oversize)
        #expect(hashes(.duplicatePayload) == scenario.duplicateData)
        #expect(hashes(.duplicateMessage) == scenario.duplicateMessage)
        #expect(hashes(.malformed).isEmpty)
        #expect(report.anomalies.count == 14)  // 2 + 2 + 3 + 4 + 2 + 1
        #expect(report.arrivalUnknown == 0)

        // Keys: what each opened, and the signers.
        #expect(report.keys.count == 3)
        let pw = try #require(report.keys.first { $0.label == "password #1" })
        #expect(pw.opened == 11)
        #expect(pw.unsigned == 3)
        #expect(Set(pw.envelopes) == Set(scenario.envelopes.filter { $0.topic == AuditScenario.topicA }.map { "0x" + $0.hash.hex }))
        #expect(
            Dictionary(uniqueKeysWithValues: pw.signers.map { ($0.publicKey, $0.count) })
                == ["0x" + scenario.signer1.publicKey.bytes.hex: 5, "0x" + scenario.signer2.publicKey.bytes.hex: 3]
        )
        #expect(pw.payloadSizeMin == 4 && pw.payloadSizeMax == 4)
        #expect(report.keys.first { $0.label == "password #2" }?.opened == 0)
        let ecies = try #require(report.keys.first { $0.kind == .privateKey })
        #expect(ecies.opened == 4)
        #expect(ecies.signers.map(\.publicKey) == ["0x" + scenario.signer1.publicKey.bytes.hex])
        #expect(report.signers.map(\.publicKey) == ["0x" + scenario.signer1.publicKey.bytes.hex, "0x" + scenario.signer2.publicKey.bytes.hex])
        #expect(report.signers.map(\.count) == [9, 3])
        let texts = Set(report.payloads?.compactMap(\.text) ?? [])
        #expect(texts == Set((0..<10).map { "pw-\($0)" } + (0..<4).map { "asym-\($0)" }))
    }

    @Test func importedEnvelopesAreNotJudgedOnArrival() async throws {
        let scenario = try AuditScenario()
        let dir = try CLI.temporaryDirectory("wa-audit")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Envelopes sent long before today: judged against an import time, every one would be expired on arrival.
        let rlp = dir.path + "/seized.rlp"
        try Data(scenario.envelopes.flatMap(\.rlp)).write(to: URL(fileURLWithPath: rlp))
        let imported = try await CLI.run(["import", "--archive", dir.path + "/imported", rlp])
        #expect(imported.status == 0, "\(imported.stderr)")
        let r = try await CLI.run(["audit", "--archive", dir.path + "/imported", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(AuditReport.self, from: Data(r.stdout.utf8))
        #expect(report.envelopes == scenario.envelopes.count)
        #expect(report.anomalies.filter { $0.kind == .expiredOnArrival || $0.kind == .futureDated }.isEmpty)
        #expect(report.arrivalUnknown == scenario.envelopes.count)
        let human = try await CLI.run(["audit", "--archive", dir.path + "/imported"])
        #expect(human.stdout.contains("not judged on arrival (arrival time unknown): \(scenario.envelopes.count) envelopes"), "\(human.stdout)")
        let html = dir.path + "/audit.html"
        _ = try await CLI.run(["audit", "--archive", dir.path + "/imported", "--html", html])
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("\(scenario.envelopes.count) envelopes have no known arrival time"))
    }

    @Test func filtersByTopicAndTime() async throws {
        let scenario = try AuditScenario()
        let dir = try CLI.temporaryDirectory("wa-audit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = try await scenario.write(into: dir)
        let from = AuditScenario.t0 + 3600
        let to = AuditScenario.t0 + 3 * 3600 - 1
        let r = try await CLI.run([
            "audit", "--archive", archive, "--json", "--topic", AuditScenario.topicC.description,
            "--from", "\(from)", "--to", "\(to)",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONDecoder().decode(AuditReport.self, from: Data(r.stdout.utf8))
        let expected = scenario.envelopes.filter { $0.topic == AuditScenario.topicC && $0.sentTime >= from && $0.sentTime <= to }
        #expect(report.envelopes == expected.count)
        #expect(report.topics.map(\.topic) == [AuditScenario.topicC.description])
        #expect(report.anomalies.isEmpty)

        let human = try await CLI.run(["audit", "--archive", archive, "--password", AuditScenario.password])
        #expect(human.status == 0)
        #expect(human.stdout.contains("\(scenario.envelopes.count) envelopes"))
        #expect(human.stdout.contains("password #1: opened 11 envelopes (3 unsigned)"))
        let strict = try await CLI.run(["audit", "--archive", archive, "--strict"])
        #expect(strict.status == 1)
        let usage = try await CLI.run(["audit", "--archive", archive, "--json", "--html", dir.path + "/x.html"])
        #expect(usage.status == 2)
    }

    @Test func htmlReportDrawsItsCharts() async throws {
        let scenario = try AuditScenario()
        let dir = try CLI.temporaryDirectory("wa-audit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let archive = try await scenario.write(into: dir)
        let htmlPath = dir.path + "/audit.html"
        let r = try await CLI.run([
            "audit", "--archive", archive, "--html", htmlPath, "--min-pow", "0.001",
            "--password", AuditScenario.password,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: htmlPath, encoding: .utf8)
        #expect(!html.contains("<script"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        for id in ["chart-hours", "chart-sizes", "chart-pow", "chart-ttl"] { #expect(html.contains("<svg id=\"\(id)\"")) }
        // The marks derive from the data: the hourly bars carry counts that add up to the envelopes.
        let counts = html.components(separatedBy: "<svg id=\"chart-hours\"")[1].components(separatedBy: "</svg>")[0]
            .components(separatedBy: "data-count=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(counts.reduce(0, +) == scenario.envelopes.count)
        #expect(html.contains("0x" + scenario.signer1.publicKey.bytes.hex))

        // Render it as a browser would and look for the charts' colours in the picture.
        let png = dir.path + "/audit.png"
        let chromium = try #require(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "chromium is not installed (scripts/install-deps installs it)"
        )
        try await CLI.tool(
            URL(fileURLWithPath: chromium),
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir.path)/chromium",
                "--screenshot=\(png)", "--window-size=1200,2000", URL(fileURLWithPath: htmlPath).absoluteString,
            ]
        )
        #expect(FileManager.default.fileExists(atPath: png))
        let colors = [AuditHTML.topicColors[0], AuditHTML.sizeColor, AuditHTML.powColor, AuditHTML.ttlColor]
        let pixels = try await PNGColorCount.count(png: png, colors: colors)
        for (c, n) in zip(colors, pixels) { #expect(n > 200, "colour \(c): \(n) pixels") }
    }
}

/// Counts pixels of given colours in a PNG by decoding it with python3's zlib (Foundation on Linux has no PNG decoder).
enum PNGColorCount {
    static let script = #"""
        import sys, struct, zlib
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\x89PNG\r\n\x1a\n'
        pos, idat, w, h, ctype = 8, b'', 0, 0, 0
        while pos < len(data):
            n, = struct.unpack('>I', data[pos:pos+4]); kind = data[pos+4:pos+8]; body = data[pos+8:pos+8+n]; pos += 12 + n
            if kind == b'IHDR':
                w, h, depth, ctype = struct.unpack('>IIBB', body[:10]); assert depth == 8 and ctype in (2, 6)
            elif kind == b'IDAT': idat += body
        bpp = 3 if ctype == 2 else 4
        raw = zlib.decompress(idat); stride = w * bpp; prev = bytearray(stride); rows = []
        for y in range(h):
            f = raw[y*(stride+1)]; line = bytearray(raw[y*(stride+1)+1:(y+1)*(stride+1)])
            for i in range(stride):
                a = line[i-bpp] if i >= bpp else 0; b = prev[i]; c = prev[i-bpp] if i >= bpp else 0
                if f == 1: line[i] = (line[i] + a) & 255
                elif f == 2: line[i] = (line[i] + b) & 255
                elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p-a), abs(p-b), abs(p-c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rows.append(line); prev = line
        want = [tuple(int(c[i:i+2], 16) for i in (1, 3, 5)) for c in sys.argv[2:]]
        counts = [0] * len(want)
        for line in rows:
            for x in range(0, stride, bpp):
                px = (line[x], line[x+1], line[x+2])
                for k, t in enumerate(want):
                    if all(abs(px[j] - t[j]) <= 2 for j in range(3)): counts[k] += 1
        print(' '.join(map(str, counts)))
        """#

    static func count(png: String, colors: [String]) async throws -> [Int] {
        let r = try await CLI.tool(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, png] + colors)
        return r.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    }
}
