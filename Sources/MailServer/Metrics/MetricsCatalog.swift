import ArchiveStore
import DevP2P
import EthCrypto
import Foundation
import Whisper

/// Every series `serve` exports: name, type, help text, buckets, and the label sets that exist from the start, at 0.
///
/// status-go's names, types, labels and buckets where status-go has the metric (whisper-mailserver.md §6.4), so
/// that its dashboards chart this server unchanged; what status-go lacks is under `whisper_archive_`. One place:
/// ``CatalogMetricsFactory`` takes the help text and buckets from here, and ``MailServerMetrics`` creates every
/// series listed here when it starts.
public enum MetricsCatalog {
    /// One metric family.
    public struct Family: Sendable {
        /// Its type in the exposition.
        public enum Kind: Sendable {
            case counter
            case gauge
            /// A histogram with these upper bounds (the `+Inf` bucket is implied).
            case histogram([Double])
        }

        /// The metric name.
        public var name: String
        /// Its type.
        public var kind: Kind
        /// The `# HELP` text.
        public var help: String
        /// The label sets created at 0 when the server starts (one empty set for an unlabelled metric).
        public var labelSets: [[(String, String)]]

        init(_ name: String, _ kind: Kind, _ help: String, labels: [[(String, String)]] = [[]]) {
            self.name = name
            self.kind = kind
            self.help = help
            self.labelSets = labels
        }
    }

    /// Prometheus's `ExponentialBuckets(start, factor, count)`, as status-go declares its size histograms.
    static func exponential(_ start: Double, _ factor: Double, _ count: Int) -> [Double] {
        (0..<count).map { start * pow(factor, Double($0)) }
    }

    /// client_golang's default histogram buckets (status-go's duration histograms declare none).
    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// status-go's `mailserver_delivery_failures_total` types.
    public static let deliveryFailureTypes = ["validation", "peer_req_limit", "process", "iterator", "historic_msg_resp"]

    /// The `db` label of the archive engine (status-go writes `leveldb` or `postgres`).
    public static func dbLabel(_ db: String) -> [[(String, String)]] { [[("db", db)]] }

    /// The sync failure types: status-go's answering side (validation, peer_req_limit, process) and ours (untrusted:
    /// a sync request from a peer that is no sync partner), then the pulling side (dial, request, store).
    public static let syncFailureTypes = ["validation", "untrusted", "peer_req_limit", "process", "dial", "request", "store"]

    /// The `peer` label of a sync peer: the first 16 hex digits of its node key.
    public static func peerLabel(_ key: PublicKey) -> String { "0x" + String(key.bytes.hex.prefix(16)) }

    /// The families of a server whose store is the `db` engine and which syncs from `syncPeers` (peer labels).
    public static func families(db: String, syncPeers: [String] = []) -> [Family] {
        let perPeer = syncPeers.map { [("peer", $0)] }
        var all: [Family] = [
            Family(
                "mailserver_delivery_attempts_total",
                .counter,
                "History requests received (0x7e), valid or not."
            ),
            Family(
                "mailserver_delivery_failures_total",
                .counter,
                "History requests that failed, by status-go's type: validation (refused or not a request), peer_req_limit (rate limit), iterator (the archive could not be read), historic_msg_resp (the answer could not be sent).",
                labels: deliveryFailureTypes.map { [("type", $0)] }
            ),
            Family(
                "mailserver_requests_batched_total",
                .counter,
                "Bundles of envelopes (0x7f) sent to requesting peers."
            ),
            Family(
                "mailserver_delivery_duration_seconds",
                .histogram(defaultBuckets),
                "Seconds from a history request's arrival until its completion (0x7d) was sent."
            ),
            Family(
                "mailserver_sent_envelope_batch_size_bytes",
                .histogram(exponential(1024, 4, 10)),
                "Bytes of each bundle of envelopes (0x7f payload) sent to a requesting peer."
            ),
            Family(
                "mailserver_archived_envelopes_total",
                .gauge,
                "Envelopes in the archive (a gauge, as in status-go), refreshed every 10 s at O(1) cost.",
                labels: dbLabel(db)
            ),
            Family(
                "mailserver_archived_envelopes_failures_total",
                .counter,
                "Batches of posted envelopes the archive failed to store (none of them was confirmed).",
                labels: dbLabel(db)
            ),
            Family(
                "mailserver_archived_envelope_size_bytes",
                .histogram(exponential(1024, 2, 11)),
                "RLP bytes of each newly archived envelope (a batch mixing new and known envelopes records its mean size per new one).",
                labels: dbLabel(db)
            ),
            Family(
                "mailserver_envelope_queries_total",
                .counter,
                "Archive queries answering history requests: filter=partial for a topic list, full for a bloom filter; history=partial with a cursor, full without.",
                labels: ["partial", "full"].flatMap { filter in ["partial", "full"].map { [("filter", filter), ("history", $0)] } }
            ),
            Family(
                "whisper_archive_envelopes_sent_total",
                .counter,
                "Envelopes sent to requesting peers in answer to history requests."
            ),
            Family("whisper_archive_bytes_in_total", .counter, "Bytes of devp2p message payloads received from peers."),
            Family("whisper_archive_bytes_out_total", .counter, "Bytes of devp2p message payloads sent to peers."),
            Family(
                "whisper_archive_peers",
                .gauge,
                "Connected peers, by the newest protocol each shares with this server (shh: shh/6 only, waku: waku/1).",
                labels: MailProtocol.allCases.map { [("protocol", $0.capabilityName)] }
            ),
            Family(StoreMetrics.fsyncsName, .counter, "fsyncs of segment files (each group commit shares one)."),
            Family(
                StoreMetrics.fsyncSecondsName,
                .histogram([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]),
                "Seconds each fsync of a segment file took."
            ),
            Family(StoreMetrics.segmentsName, .gauge, "Segment files of the archive, the active one included (embedded archive only)."),
            Family(StoreMetrics.bytesName, .gauge, "Bytes of the archive's segment files (PostgreSQL: of the envelopes table and its indexes, refreshed every 10 s)."),
            Family(
                StoreMetrics.oldestSentName,
                .gauge,
                "Sent time (UNIX seconds) of the oldest envelope stored; 0 when empty (PostgreSQL: refreshed every 10 s)."
            ),
            Family(
                StoreMetrics.newestSentName,
                .gauge,
                "Sent time (UNIX seconds) of the newest envelope stored; 0 when empty (PostgreSQL: refreshed every 10 s)."
            ),
            Family(
                RLPxServer.Refusal.metric,
                .counter,
                "Connections the server closed before serving them, by reason: closing (stopping), handshakes (too many running), address_rate (the address's connection budget), max_peers, duplicate (the node is connected already).",
                labels: RLPxServer.Refusal.Reason.allCases.map { [("reason", $0.rawValue)] }
            ),
            Family(
                "whisper_archive_store_errors_total",
                .counter,
                "Failed archive calls (appends, queries, the envelope count): how often the archive or its database was unavailable."
            ),
        ]
        all += [
            Family("mailserver_sync_attempts_total", .counter, "Sync requests (code 123) received from peers."),
            Family(
                "mailserver_sync_failures_total",
                .counter,
                "Sync failures by type: answering (validation, untrusted, peer_req_limit, process) and pulling from a sync peer (dial, request, store).",
                labels: syncFailureTypes.map { [("type", $0)] }
            ),
        ]
        // Per sync peer: only when there are some (a family without a series would be exported without values).
        if !perPeer.isEmpty {
            all += [
                Family(
                    "whisper_archive_sync_envelopes_fetched_total",
                    .counter,
                    "Envelopes fetched from each sync peer (new or already stored).",
                    labels: perPeer
                ),
                Family("whisper_archive_sync_envelopes_added_total", .counter, "Envelopes from each sync peer that were new here.", labels: perPeer),
                Family("whisper_archive_sync_bytes_fetched_total", .counter, "Bytes of envelopes fetched from each sync peer.", labels: perPeer),
                Family(
                    "whisper_archive_sync_last_success_seconds",
                    .gauge,
                    "UNIX time of the last complete sync with each sync peer (0: none yet).",
                    labels: perPeer
                ),
            ]
        }
        for prefix in ["whisper", "waku"] {
            all += [
                Family("\(prefix)_envelopes_received_total", .counter, "Envelopes received in messages packets (code 1)."),
                Family("\(prefix)_envelopes_validated_total", .counter, "Received envelopes that passed the receive checks."),
                Family(
                    "\(prefix)_envelopes_rejected_total",
                    .counter,
                    "Messages packets rejected whole, by reason (invalid_data: not a list of envelopes).",
                    labels: [[("reason", "invalid_data")]]
                ),
                Family(
                    "\(prefix)_envelopes_cached_total",
                    .counter,
                    "Validated envelopes by archive outcome: miss (new, stored) or hit (already stored).",
                    labels: [[("cache", "hit")], [("cache", "miss")]]
                ),
                Family(
                    "\(prefix)_envelopes_cache_failures_total",
                    .counter,
                    "Received envelopes refused by a receive check, by status-go's type (expired: dropped silently).",
                    labels: (["expired"] + ReceivePolicy.Rejection.allCases.map(\.rawValue)).map { [("type", $0)] }
                ),
            ]
        }
        return all
    }
}
