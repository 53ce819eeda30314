import ArchiveStore
import EthCrypto
import Foundation
import Whisper

/// Accumulates an ``AuditReport`` one stored envelope at a time.
///
/// ```swift
/// var auditor = Auditor(configuration: config)
/// try archive.scan(config.filter) { auditor.add($0) }
/// let report = auditor.finish()
/// ```
public struct Auditor {
    /// What is audited and the thresholds.
    public let configuration: AuditConfiguration

    private var report: AuditReport
    private var topics: [Topic: AuditReport.TopicCount] = [:]
    private var hours: [UInt32: [Topic: Int]] = [:]
    private var dataSeen: [DigestKey: Int] = [:]
    private var messagesSeen: [DigestKey: Int] = [:]
    private var hashes: [String] = []
    private var keyResults: [AuditReport.KeyResult]
    private var keySigners: [[String: Int]]
    private var signerKeys: [String: (count: Int, keys: Set<String>)] = [:]
    private let start = Date()

    /// A 64-bit digest and a length: enough to recognise repeated payloads in one run.
    private struct DigestKey: Hashable {
        var digest: Int
        var length: Int
        init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
            var h = Hasher()
            if let done: Void = bytes.withContiguousStorageIfAvailable({ h.combine(bytes: UnsafeRawBufferPointer($0)) }) {
                _ = done
            } else {
                Array(bytes).withUnsafeBytes { h.combine(bytes: $0) }
            }
            digest = h.finalize()
            length = bytes.count
        }
    }

    /// Starts an empty audit.
    public init(configuration: AuditConfiguration) {
        self.configuration = configuration
        let f = configuration.filter
        var topicsScope: [String]?
        if case .list(let l) = f.topics { topicsScope = l.map(\.description) }
        report = AuditReport(
            scope: .init(
                from: f.from,
                to: f.to,
                topics: topicsScope,
                minimumPoW: configuration.minimumPoW,
                maximumSize: configuration.maximumSize
            )
        )
        keyResults = configuration.keys.map {
            AuditReport.KeyResult(
                label: $0.label,
                kind: $0.kind,
                opened: 0,
                unsigned: 0,
                payloadBytes: 0,
                payloadSizeMin: nil,
                payloadSizeMax: nil,
                signers: [],
                envelopes: []
            )
        }
        keySigners = configuration.keys.map { _ in [:] }
        if configuration.keepPayloads { report.payloads = [] }
    }

    /// Examines one stored envelope.
    public mutating func add(_ stored: ArchivedEnvelope) {
        let envelope: Envelope
        do {
            envelope = try stored.envelope()
        } catch {
            let hash = "0x" + stored.hash.hex
            anomaly(.malformed, hash: hash, topic: stored.topic, sent: stored.sentTime, stored: stored, detail: error.description)
            return
        }
        let hash = "0x" + envelope.hash.hex
        report.envelopes += 1
        report.bytes += envelope.rlp.count
        let sent = envelope.sentTime
        report.firstSent = min(report.firstSent ?? sent, sent)
        report.lastSent = max(report.lastSent ?? sent, sent)

        var t = topics[envelope.topic] ?? .init(topic: envelope.topic.description, count: 0, bytes: 0, firstSent: sent, lastSent: sent)
        t.count += 1
        t.bytes += envelope.rlp.count
        t.firstSent = min(t.firstSent, sent)
        t.lastSent = max(t.lastSent, sent)
        topics[envelope.topic] = t
        hours[sent - sent % 3600, default: [:]][envelope.topic, default: 0] += 1

        report.sizes.add(Double(envelope.size))
        report.ttls.add(Double(envelope.ttl))
        let pow = envelope.proofOfWork()
        report.pows.add(pow.isFinite ? pow : .greatestFiniteMagnitude)

        // Arrival 0 is "unknown" (docs/FORMAT.md): such an envelope cannot be judged against its arrival.
        if let arrival = stored.arrival, arrival != 0 {
            if sent > arrival, sent - arrival > configuration.futureTolerance {
                anomaly(
                    .futureDated,
                    hash: hash,
                    topic: envelope.topic,
                    sent: sent,
                    stored: stored,
                    detail: "sent \(sent - arrival) s after it arrived"
                )
            }
            if envelope.expiry < arrival {
                anomaly(
                    .expiredOnArrival,
                    hash: hash,
                    topic: envelope.topic,
                    sent: sent,
                    stored: stored,
                    detail: "expired \(arrival - envelope.expiry) s before it arrived (TTL \(envelope.ttl) s)"
                )
            }
        } else {
            report.arrivalUnknown += 1
        }
        if let minimum = configuration.minimumPoW, pow < minimum {
            anomaly(
                .lowPoW,
                hash: hash,
                topic: envelope.topic,
                sent: sent,
                stored: stored,
                detail: "proof of work \(Self.format(pow)) < \(Self.format(minimum))"
            )
        }
        if envelope.size > configuration.maximumSize {
            anomaly(
                .oversize,
                hash: hash,
                topic: envelope.topic,
                sent: sent,
                stored: stored,
                detail: "size \(envelope.size) bytes > \(configuration.maximumSize)"
            )
        }
        let index = hashes.count
        hashes.append(hash)
        let dataKey = DigestKey(envelope.data)
        if let first = dataSeen[dataKey] {
            anomaly(
                .duplicatePayload,
                hash: hash,
                topic: envelope.topic,
                sent: sent,
                stored: stored,
                detail: "the same \(envelope.data.count)-byte Data as an earlier envelope",
                firstHash: hashes[first]
            )
        } else {
            dataSeen[dataKey] = index
        }
        for (k, key) in configuration.keys.enumerated() {
            guard let message = try? envelope.open(with: key.key) else { continue }
            opened(message, keyIndex: k, envelope: envelope, hash: hash, index: index, stored: stored)
        }
    }

    private mutating func opened(
        _ message: Message,
        keyIndex k: Int,
        envelope: Envelope,
        hash: String,
        index: Int,
        stored: ArchivedEnvelope
    ) {
        let label = configuration.keys[k].label
        var r = keyResults[k]
        r.opened += 1
        r.envelopes.append(hash)
        r.payloadBytes += message.payload.count
        r.payloadSizeMin = min(r.payloadSizeMin ?? message.payload.count, message.payload.count)
        r.payloadSizeMax = max(r.payloadSizeMax ?? message.payload.count, message.payload.count)
        let signer = message.signer.map { "0x" + $0.bytes.hex }
        if let signer {
            keySigners[k][signer, default: 0] += 1
            var s = signerKeys[signer] ?? (0, [])
            s.count += 1
            s.keys.insert(label)
            signerKeys[signer] = s
        } else {
            r.unsigned += 1
        }
        keyResults[k] = r
        let messageKey = DigestKey(message.payload)
        if let first = messagesSeen[messageKey] {
            if first != index {
                anomaly(
                    .duplicateMessage,
                    hash: hash,
                    topic: envelope.topic,
                    sent: envelope.sentTime,
                    stored: stored,
                    detail: "the same \(message.payload.count)-byte payload (opened with \(label)) as an earlier envelope",
                    firstHash: hashes[first]
                )
            }
        } else {
            messagesSeen[messageKey] = index
        }
        if configuration.keepPayloads {
            let text = String(validating: message.payload, as: UTF8.self).flatMap { s in
                s.unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" || $0 == "\r" } ? s : nil
            }
            report.payloads?.append(
                .init(
                    hash: hash,
                    key: label,
                    topic: envelope.topic.description,
                    sent: envelope.sentTime,
                    signer: signer,
                    payload: "0x" + message.payload.hex,
                    text: text
                )
            )
        }
    }

    private mutating func anomaly(
        _ kind: AuditReport.AnomalyKind,
        hash: String,
        topic: Topic,
        sent: UInt32,
        stored: ArchivedEnvelope,
        detail: String,
        firstHash: String? = nil
    ) {
        report.anomalyCounts[kind.rawValue, default: 0] += 1
        report.anomalies.append(
            .init(
                kind: kind,
                hash: hash,
                topic: topic.description,
                sent: sent,
                arrival: stored.arrival,
                sequence: stored.sequence,
                detail: detail,
                firstHash: firstHash
            )
        )
    }

    /// The report: sorted tables and the elapsed time.
    public func finish() -> AuditReport {
        var r = report
        r.topics = topics.values.sorted { ($0.count, $1.topic) > ($1.count, $0.topic) }
        r.hours = hours.keys.sorted().map { h in
            let m = hours[h]!
            return .init(hour: h, count: m.values.reduce(0, +), topics: Dictionary(uniqueKeysWithValues: m.map { ($0.key.description, $0.value) }))
        }
        r.keys = keyResults.enumerated().map { k, result in
            var result = result
            result.signers = keySigners[k].map { .init(publicKey: $0.key, count: $0.value, keys: [result.label]) }
                .sorted { ($0.count, $1.publicKey) > ($1.count, $0.publicKey) }
            return result
        }
        r.signers = signerKeys.map { .init(publicKey: $0.key, count: $0.value.count, keys: $0.value.keys.sorted()) }
            .sorted { ($0.count, $1.publicKey) > ($1.count, $0.publicKey) }
        r.seconds = Date().timeIntervalSince(start)
        return r
    }

    static func format(_ v: Double) -> String { String(format: "%.6g", v) }
}

extension Auditor {
    /// Audits the envelopes of `store` selected by the configuration's filter, in storage order.
    ///
    /// - Parameter progress: called about every 10,000 envelopes with the number examined so far.
    public static func run(
        store: any EnvelopeStore,
        configuration: AuditConfiguration,
        progress: (Int) -> Void = { _ in }
    ) async throws -> AuditReport {
        var auditor = Auditor(configuration: configuration)
        var n = 0
        let damaged = try await store.scan(configuration.filter, order: .storage) { e in
            auditor.add(e)
            n += 1
            if n % 10_000 == 0 { progress(n) }
        }
        var report = auditor.finish()
        report.skipped = damaged.map { .init(file: $0.path, start: $0.range.lowerBound, end: $0.range.upperBound, reason: $0.reason) }
        return report
    }
}
