import ArchiveFormats
import ArchiveStore
import ArgumentParser
import CoreMetrics
import DevP2P
import Dispatch
import EthCrypto
import Foundation
import Logging
import MailServer
import PostgresArchive
import ServiceLifecycle
import Synchronization
import Whisper

/// `whisper-archive serve`: run a mailserver on an archive.
struct ServeCommand: AsyncParsableCommand {
    @OptionGroup var logging: LoggingOptions

    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a Whisper/Waku mailserver (shh/6 and waku/1) on an archive.",
        discussion: """
            Archives every valid envelope peers post (code 1), relays it to the other peers that \
            want it, and answers history requests (0x7e) from the archive in the requester's \
            dialect. Prints its enode URL as the first line of standard output. Without \
            --node-key the identity is kept in DIR/node.key so it survives restarts. \
            SIGINT/SIGTERM stop it cleanly (peers get "client quitting"), within --shutdown-timeout; a \
            second signal exits at once. Under systemd (Type=notify) it reports READY=1, STOPPING=1 and \
            the watchdog.

            Examples:
              whisper-archive serve --archive ./archive --listen 0.0.0.0:30303 --password status-offline-inbox
              whisper-archive serve --archive ./archive --config /etc/whisper-archive/whisper-archive.json --advertise 203.0.113.7
            """
    )

    @OptionGroup var location: ArchiveLocation<ServedArchive>

    @Option(
        help: ArgumentHelp(
            "A JSON config file (keys as status-go's: ListenAddr, AdvertiseAddr, NodeKey, MailServerPassword, MailServerRateLimit, MailServerDataRetention, MinimumPoW, MaxMessageSize, MaxPeers; and NodeKeyFile, Metrics, Peers, ShutdownTimeout). Flags win over it.",
            valueName: "file"
        ),
        completion: .file()
    )
    var config: String?

    @Option(
        name: .customLong("advertise"),
        help: ArgumentHelp(
            "The address the enode URL carries: an IP address, with a port when it differs from the listening one (default: the listening address; 127.0.0.1 for 0.0.0.0 or ::).",
            valueName: "ip[:port]"
        )
    )
    var advertiseFlag: String?

    @Option(name: .customLong("listen"), help: ArgumentHelp("Address to listen on (default: 0.0.0.0:30303).", valueName: "host:port"))
    var listenFlag: String?

    @OptionGroup var keys: ServerKeyOptions

    @Option(name: .customLong("min-pow"), help: "Minimum PoW for posted envelopes and for requests (default: 0.000002).")
    var minPoWFlag: Double?

    @Option(name: .customLong("max-message-size"), help: "Largest envelope and 0x7f bundle, in bytes (default: 1048576).")
    var maxMessageSizeFlag: Int?

    @Option(name: .customLong("rate-limit"), help: "Minimum seconds between two requests of one peer (default: 0, off).")
    var rateLimitFlag: Double?

    @Option(
        help: ArgumentHelp(
            "Each peer's inbound byte budget; past it the server stops reading from that peer until the budget refills (0: unlimited).",
            valueName: "bytes"
        )
    )
    var peerBytesPerSecond = 8 << 20

    @Option(
        help: ArgumentHelp(
            "New connections accepted per second from one IP address, with bursts of twice that; more are closed before the handshake (0: unlimited).",
            valueName: "n"
        )
    )
    var connectionsPerIP = 32

    @Option(
        help: ArgumentHelp(
            "Connections charged to an IP address when one of its connections breaks the protocol (a failed handshake, a bad MAC or message, an invalid request), so that a peer sending junk in a loop gets about one handshake a second; the debt is capped at two seconds of the address's budget (0: no charge).",
            valueName: "n"
        )
    )
    var violationPenalty = 32

    @Option(name: .customLong("max-peers"), help: "Most peers connected at once (default: 50).")
    var maxPeersFlag: Int?

    @Option(name: .customLong("peer"), help: ArgumentHelp("Dial this peer at start (repeatable).", valueName: "enode"))
    var peerFlags: [String] = []

    @Option(name: .customLong("metrics"), help: ArgumentHelp("Serve Prometheus metrics on this address.", valueName: "host:port"))
    var metricsFlag: String?

    @Option(
        name: .customLong("enode-file"),
        help: "Also write the enode URL to this file (a device or FIFO is written in place).",
        completion: .file()
    )
    var enodeFile: String?

    @Option(help: "Durability of archived envelopes: always, none, or interval:MS.")
    var sync: SyncPolicy = .always

    @Option(
        name: .customLong("shutdown-timeout"),
        help: ArgumentHelp(
            "Seconds a graceful stop (SIGTERM, SIGINT) may take before the process exits anyway; a second signal exits at once.",
            valueName: "seconds"
        )
    )
    var shutdownTimeoutFlag: Double?

    @Option(
        name: .customLong("retention-days"),
        help: ArgumentHelp("Remove envelopes sent more than N days ago, at start and then hourly.", valueName: "N")
    )
    var retentionDaysFlag: Int?

    @Option(
        name: .customLong("sync-peer"),
        help: ArgumentHelp(
            "Pull what this mailserver has and we lack, at start and every --sync-interval (repeatable; it is also trusted with our sync answers).",
            valueName: "enode"
        )
    )
    var syncPeerFlags: [String] = []

    @Option(name: .customLong("sync-interval"), help: ArgumentHelp("Seconds between two syncs with each sync peer (default: 300).", valueName: "seconds"))
    var syncIntervalFlag: Double?

    @Option(
        name: .customLong("sync-window"),
        help: ArgumentHelp("Seconds of history each sync covers, back from now (default: the retention window, else 86400).", valueName: "seconds")
    )
    var syncWindowFlag: Double?

    @Option(
        name: .customLong("trusted-peer"),
        help: ArgumentHelp("Answer this peer's sync requests (code 123); others get the error response (repeatable).", valueName: "enode")
    )
    var trustedPeerFlags: [String] = []

    /// The config file's settings (none without `--config`); `validate()` has read it once already.
    var file: ServeConfigFile { (try? config.map(ServeConfigFile.load)) ?? ServeConfigFile() }

    // The settings in effect: the flag, else the config file, else the default.
    var listen: String { listenFlag ?? file.listenAddr ?? "0.0.0.0:30303" }
    var advertise: String? { advertiseFlag ?? file.advertiseAddr }
    var minPoW: Double { minPoWFlag ?? file.minimumPoW ?? 0.000002 }
    var maxMessageSize: Int { maxMessageSizeFlag ?? file.maxMessageSize ?? 1 << 20 }
    var rateLimit: Double { rateLimitFlag ?? file.mailServerRateLimit ?? 0 }
    var maxPeers: Int { maxPeersFlag ?? file.maxPeers ?? 50 }
    var peers: [String] { peerFlags.isEmpty ? file.peers ?? [] : peerFlags }
    var metrics: String? { metricsFlag ?? file.metrics }
    var shutdownTimeout: Double { shutdownTimeoutFlag ?? file.shutdownTimeout ?? 10 }
    /// status-go's MailServerDataRetention of 0 means none.
    var retentionDays: Int? { retentionDaysFlag ?? file.mailServerDataRetention.flatMap { $0 == 0 ? nil : $0 } }
    var syncPeers: [String] { syncPeerFlags.isEmpty ? file.syncPeers ?? [] : syncPeerFlags }
    var trustedPeers: [String] { trustedPeerFlags.isEmpty ? file.trustedPeers ?? [] : trustedPeerFlags }
    var syncInterval: Double { syncIntervalFlag ?? file.syncInterval ?? 300 }
    var syncWindow: Double { syncWindowFlag ?? file.syncWindow ?? retentionDays.map { Double($0) * 86_400 } ?? 86_400 }

    /// The archive: `--archive`/`--archive-url`, else the config's `DataDir` or `PostgresURI`.
    var archiveTarget: ArchiveLocation<ServedArchive>.Target {
        get throws { try location.target(orConfig: file.archive) }
    }

    func validate() throws {
        if let config { _ = try ServeConfigFile.load(config) }
        if location.archive == nil, location.archiveURL == nil, file.archive == nil {
            throw ValidationError("give --archive or --archive-url (or DataDir or PostgresURI in the --config file)")
        }
        if let advertise, Self.advertised(advertise) == nil {
            throw ValidationError("--advertise must be an IP address, optionally with :PORT, got \(advertise)")
        }
        if let enodeFile {
            // Checked before anything is opened or announced: a typo in the path is a usage error.
            let parent = (enodeFile as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw ValidationError("--enode-file: no such directory: \(parent)")
            }
        }
        if HostPort(listen) == nil { throw ValidationError("--listen must be HOST:PORT, got \(listen)") }
        if let metrics, HostPort(metrics) == nil { throw ValidationError("--metrics must be HOST:PORT, got \(metrics)") }
        if !(minPoW >= 0) || !minPoW.isFinite { throw ValidationError("--min-pow must be a finite number ≥ 0") }
        if maxMessageSize < 1024 || maxMessageSize > 10 << 20 { throw ValidationError("--max-message-size must be 1024…10485760") }
        if peerBytesPerSecond < 0 { throw ValidationError("--peer-bytes-per-second must be 0 (unlimited) or more") }
        if connectionsPerIP < 0 { throw ValidationError("--connections-per-ip must be 0 (unlimited) or more") }
        if violationPenalty < 0 { throw ValidationError("--violation-penalty must be 0 (none) or more") }
        if maxPeers < 1 { throw ValidationError("--max-peers must be at least 1") }
        if !(shutdownTimeout > 0) || !shutdownTimeout.isFinite { throw ValidationError("--shutdown-timeout must be a positive number of seconds") }
        for p in peers where EnodeURL(p) == nil { throw ValidationError("--peer: not an enode URL: \(p)") }
        for p in syncPeers where EnodeURL(p)?.isDialable != true { throw ValidationError("--sync-peer: not a dialable enode URL: \(p)") }
        for p in trustedPeers where EnodeURL(p) == nil { throw ValidationError("--trusted-peer: not an enode URL or node key: \(p)") }
        // Bounded before they become whole milliseconds or 32-bit seconds.
        if !(syncInterval >= 1 && syncInterval <= 31_536_000) { throw ValidationError("--sync-interval must be 1…31536000 seconds") }
        if !(syncWindow >= 1 && syncWindow <= Double(UInt32.max)) { throw ValidationError("--sync-window must be 1…4294967295 seconds") }
        if let retentionDays, retentionDays < 1 { throw ValidationError("--retention-days must be at least 1") }
        if case .postgres = try archiveTarget, keys.nodeKey == nil, file.nodeKeyFile == nil, file.nodeKey == nil {
            throw ValidationError("with a PostgreSQL archive, give --node-key FILE (whisper-archive keygen --output FILE makes one)")
        }
    }

    /// `--advertise`'s IP address and port, if it has one; nil when it is neither `IP` nor `IP:PORT`
    /// (`[IPv6]:PORT` for a port with an IPv6 address).
    static func advertised(_ text: String) -> (host: String, port: Int?)? {
        func isIP(_ h: String) -> Bool {
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, h, &v4) == 1 || inet_pton(AF_INET6, h, &v6) == 1
        }
        if isIP(text) { return (text, nil) }
        guard let hp = HostPort(text), hp.port > 0, isIP(hp.host) else { return nil }
        return (hp.host, hp.port)
    }

    /// status-go's `db` label for the engine.
    static func dbLabel(_ target: ArchiveLocation<ServedArchive>.Target) -> String {
        if case .postgres = target { return "postgres" }
        return "archive"
    }

    func run() async throws {
        // An archive this run creates (in a missing or empty directory) is removed again when serve fails before it
        // announced its enode (a port in use, say): a start that failed leaves nothing behind.
        var fresh: (path: String, existed: Bool)?
        if case .directory(let d)? = try? archiveTarget {
            if !FileManager.default.fileExists(atPath: d) {
                fresh = (d, false)
            } else if (try? FileManager.default.contentsOfDirectory(atPath: d))?.isEmpty == true {
                fresh = (d, true)
            }
        }
        let announced = Announced()
        do { try await serve(announced: announced) } catch {
            if let fresh, !announced.done.withLock({ $0 }) {
                if fresh.existed {
                    for name in (try? FileManager.default.contentsOfDirectory(atPath: fresh.path)) ?? [] {
                        try? FileManager.default.removeItem(atPath: fresh.path + "/" + name)
                    }
                } else {
                    try? FileManager.default.removeItem(atPath: fresh.path)
                }
            }
            throw error
        }
    }

    /// Set once the enode is announced.
    final class Announced: Sendable {
        let done = Mutex(false)
    }

    func serve(announced: Announced) async throws {
        let logger = Logger(label: "whisper-archive.serve")
        // The level: --log-level, else LOG_LEVEL, else the config's LogLevel, else info.
        let levelFixed = logging.level != nil || ProcessInfo.processInfo.environment["LOG_LEVEL"].map { !$0.isEmpty } == true
        if !levelFixed, let level = file.logLevel { LogLine.level.withLock { $0 = level.level } }
        // One registry for the whole process: the mail server's series, and whatever the store and DevP2P report
        // through swift-metrics.
        let syncNodes = syncPeers.compactMap(EnodeURL.init)
        let registry = MailServerMetrics(db: Self.dbLabel(try archiveTarget), syncPeers: syncNodes.map { MetricsCatalog.peerLabel($0.publicKey) })
        MetricsSystem.bootstrap(registry.factory)
        let store: any EnvelopeStore
        let archive: Archive?
        let key: PrivateKey
        switch try archiveTarget {
        case .directory(let directory):
            // A key named by a flag or the config is read first: a missing one fails before the archive is
            // created or opened. The archive's own node.key is made, when missing, once the directory exists.
            let named = keys.nodeKey != nil || file.nodeKeyFile != nil || file.nodeKey != nil
            let namedKey = named ? try keys.nodeKey(archive: nil, config: file) : nil
            var storeConfig = ArchiveConfiguration()
            storeConfig.sync = sync
            do { archive = try Archive(directory: directory, configuration: storeConfig) } catch { throw CLIError(error.description) }
            store = archive!
            key = try namedKey ?? keys.nodeKey(archive: directory, config: file)
        case .postgres(let database):
            // The key file is read before connecting: a missing one is a usage error, not a database round trip.
            key = try keys.nodeKey(archive: nil, config: file)
            archive = nil
            store = try await location.openPostgres(database, readOnly: false)
        }
        let password = try keys.mailPassword(config: file)
        var config = MailServerConfiguration(nodeKey: key, password: password)
        config.minPoW = minPoW
        config.maxMessageSize = maxMessageSize
        config.rateLimitSeconds = rateLimit
        config.peerBytesPerSecond = peerBytesPerSecond
        config.connectionsPerSecondPerIP = connectionsPerIP
        config.violationPenalty = violationPenalty
        config.trustedPeers = Set((syncPeers + trustedPeers).compactMap { EnodeURL($0)?.publicKey })

        let address = HostPort(listen)!
        let node: MailServerNode
        do {
            node = try await MailServerNode.start(
                store: store,
                configuration: config,
                host: address.host,
                port: address.port,
                maxPeers: maxPeers,
                metrics: registry,
                logger: logger
            )
        } catch {
            throw CLIError("cannot listen on \(listen): \(NetworkErrorText.describe(error))")
        }
        let log = logger
        // The services, each stopped gracefully in the reverse of this order: the block check and retention
        // first, then the mail server (peers get Disconnect), then the metrics, and the watchdog last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let interval = SystemdNotify.watchdogInterval() {
            services.append(
                .init(
                    service: ClosureService { try? await cancelWhenGracefulShutdown { try await Self.watchdog(every: interval) } },
                    serviceName: "watchdog"
                )
            )
        }
        // The metrics listener is bound before the enode is announced, so a scraper started on the enode line
        // finds it; its real address (port 0 gets one) is logged.
        if let metrics, let m = HostPort(metrics) {
            let metricsServer: MetricsServer
            do { metricsServer = try await MetricsServer.start(host: m.host, port: m.port, metrics: node.metrics) } catch {
                await node.shutdown()
                await store.close()
                throw CLIError("cannot serve metrics on \(metrics): \(NetworkErrorText.describe(error))")
            }
            log.info("metrics on http://\(m.host):\(metricsServer.port ?? m.port)/metrics")
            services.append(
                .init(
                    service: ClosureService {
                        try? await gracefulShutdown()
                        await metricsServer.close()
                    },
                    serviceName: "metrics"
                )
            )
        }
        var enode = node.enode
        if address.host == "0.0.0.0" || address.host == "::" { enode.host = "127.0.0.1" }
        if let advertise, let (host, port) = Self.advertised(advertise) {
            enode.host = host
            // No discovery runs: the UDP port is the advertised one, so the URL carries no discport.
            if let port {
                enode.tcpPort = port
                enode.udpPort = port
            }
        }
        let announcedEnode = enode
        let announcedFlag = announced
        let enodeFile = self.enodeFile
        let peers = self.peers
        services.append(
            .init(
                service: ClosureService {
                    try await withGracefulShutdownHandler {
                        try await Self.announce(announcedEnode, enodeFile: enodeFile, store: store, logger: log)
                        announcedFlag.done.withLock { $0 = true }
                        node.setStaticPeers(peers.compactMap(EnodeURL.init))
                        await node.run()
                    } onGracefulShutdown: {
                        Task { await node.shutdown() }
                    }
                },
                serviceName: "mailserver"
            )
        )
        if let days = retentionDays {
            services.append(
                .init(
                    service: ClosureService { await cancelWhenGracefulShutdown { await Self.retention(store: store, days: days, logger: log) } },
                    serviceName: "retention"
                )
            )
        }
        if !syncNodes.isEmpty {
            let options = (window: syncWindow, interval: syncInterval, key: key, password: password)
            services.append(
                .init(
                    service: ClosureService {
                        await cancelWhenGracefulShutdown {
                            await Self.syncLoop(syncNodes, store: store, options: options, metrics: registry, logger: log)
                        }
                    },
                    serviceName: "sync"
                )
            )
        }
        if let archive {
            services.append(
                .init(
                    service: ClosureService { await cancelWhenGracefulShutdown { Self.checkBlocks(archive: archive, logger: log) } },
                    successTerminationBehavior: .ignore,
                    serviceName: "block-check"
                )
            )
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: log))
        // Signals are caught from here on, before the enode is announced: a supervisor (or a test) that stops the
        // server as soon as it has read the enode must not find the signal lost. The first starts the graceful stop
        // with its deadline; a second one, or the deadline, ends the process at once (what was acknowledged is
        // durable; the next open recovers the rest).
        let signals = StopSignals(timeout: shutdownTimeout, logger: log) { Task { await group.triggerGracefulShutdown() } }
        defer { signals.cancel() }
        let reload = self.config.map { path in
            ConfigReload(
                path: path,
                file: file,
                live: .init(logLevel: levelFixed ? nil : file.logLevel ?? .info, rateLimit: rateLimit, peers: peers),
                fixed: .init(logLevel: levelFixed, rateLimit: rateLimitFlag != nil, peers: !peerFlags.isEmpty),
                defaults: .init(logLevel: .info, rateLimit: 0, peers: []),
                node: node,
                logger: log
            )
        }
        let hangUp = ReloadSignal {
            guard let reload else { return log.notice("SIGHUP: serve was started without --config; nothing to read again") }
            reload.reload()
        }
        defer { hangUp.cancel() }
        do { try await group.run() } catch {
            await store.close()
            if let e = error as? CLIError { throw e }
            throw CLIError("serve stopped: \(error)")
        }
        await store.close()
        logger.info("stopped; archive closed")
    }
}

extension ServeCommand {
    /// The enode line on standard output (and in `--enode-file`), systemd's `READY=1`, and the log line.
    static func announce(_ enode: EnodeURL, enodeFile: String?, store: any EnvelopeStore, logger: Logger) async throws {
        // The file first: a failure to write it stops serve before anyone was told the enode.
        if let enodeFile {
            do { try OutputFile.write(Array((enode.description + "\n").utf8), to: enodeFile, replacing: true) } catch {
                throw CLIError("cannot write the enode file: \(error)")
            }
        }
        FileHandle.standardOutput.write(Data((enode.description + "\n").utf8))
        SystemdNotify.send("READY=1\nSTATUS=serving \(store.location)")
        logger.info("serving \(store.location) as \(enode)")
    }

    /// `WATCHDOG=1` every `interval` until cancelled: it is the last service stopped, once the others ended.
    static func watchdog(every interval: Duration) async throws {
        while true {
            SystemdNotify.send("WATCHDOG=1")
            try await Task.sleep(for: interval)
        }
    }
}

extension ServeCommand {
    /// Checks the archive's block checksums once (``Archive/checkBlocks()``, which stops when its task is
    /// cancelled), so that requests do not pay for a block's check on their first read from it.
    static func checkBlocks(archive: Archive, logger: Logger) {
        let start = ContinuousClock.now
        do {
            let (damaged, bytes) = try archive.checkBlocks()
            logger.info(
                "archive blocks checked",
                metadata: [
                    "bytes": "\(bytes)", "damaged": "\(damaged.count)", "ms": "\(Int((ContinuousClock.now - start) / .milliseconds(1)))",
                ]
            )
        } catch {
            logger.warning("checking the archive's blocks stopped: \(error)")
        }
    }

    /// Applies retention (now − `days`) at start and then every hour, until cancelled.
    static func retention(store: any EnvelopeStore, days: Int, logger: Logger) async {
        while !Task.isCancelled {
            let cutoff = UInt32(clamping: Int(Date().timeIntervalSince1970) - days * 86_400)
            do {
                let r = try await store.expire(sentBefore: cutoff)
                logger.info("retention: removed \(r.removed) envelopes sent before \(cutoff) \(r.detail); kept \(r.kept)")
            } catch {
                logger.error("retention failed: \(error)")
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}

extension ServeCommand {
    /// The sync service: at start and then every `interval`, one pull from each sync peer of the last `window`
    /// seconds, logged and counted; a failure is counted and retried at the next interval.
    static func syncLoop(
        _ peers: [EnodeURL],
        store: any EnvelopeStore,
        options: (window: Double, interval: Double, key: PrivateKey, password: String?),
        metrics: MailServerMetrics,
        logger: Logger
    ) async {
        while !Task.isCancelled {
            for peer in peers {
                if Task.isCancelled { return }
                let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
                let lower = now > UInt32(options.window) ? now - UInt32(options.window) : 0
                var pull = SyncPull.Options(lower: lower, upper: now &+ ReceivePolicy.syncAllowance, key: options.key)
                pull.password = options.password
                let label = MetricsCatalog.peerLabel(peer.publicKey)
                var metadata: Logger.Metadata = ["peer": "\(label)", "address": "\(MailClient.address(of: peer))"]
                func count(_ s: SyncPull.Summary) {
                    metrics.increment("whisper_archive_sync_envelopes_fetched_total{peer=\"\(label)\"}", by: Double(s.fetched))
                    metrics.increment("whisper_archive_sync_envelopes_added_total{peer=\"\(label)\"}", by: Double(s.added))
                    metrics.increment("whisper_archive_sync_bytes_fetched_total{peer=\"\(label)\"}", by: Double(s.bytes))
                    metadata["method"] = "\(s.method)"
                    metadata["fetched"] = "\(s.fetched)"
                    metadata["added"] = "\(s.added)"
                    metadata["bytes"] = "\(s.bytes)"
                    metadata["ms"] = "\(Int((s.seconds * 1000).rounded()))"
                }
                do {
                    let s = try await SyncPull.run(from: peer, into: store, options: pull)
                    count(s)
                    metrics.set("whisper_archive_sync_last_success_seconds{peer=\"\(label)\"}", Double(now))
                    logger.info("synced", metadata: metadata)
                } catch {
                    count(error.summary)
                    metrics.increment("mailserver_sync_failures_total{type=\"\(error.type)\"}")
                    metadata["error"] = "\(error.description)"
                    logger.warning("sync failed; trying again at the next interval", metadata: metadata)
                }
            }
            try? await Task.sleep(for: .milliseconds(Int64(options.interval * 1000)))
        }
    }
}
