import DevP2P
import Logging
import MailServer
import Synchronization

/// What SIGHUP changes in a running `serve`: the config file is read again, and its `LogLevel`,
/// `MailServerRateLimit` and `Peers` take effect at once, unless a flag (or `LOG_LEVEL`) set them at start, since a
/// flag wins over the file. Every other key needs a restart; a reload that finds one changed says so. A file that no
/// longer reads (a typo, a bad value) changes nothing and is logged as an error.
final class ConfigReload: Sendable {
    /// The settings that can change live.
    struct Live: Equatable {
        var logLevel: LogLevelOption?
        var rateLimit: Double
        var peers: [String]
    }

    /// Which of them a flag fixed at start.
    struct Fixed {
        var logLevel: Bool
        var rateLimit: Bool
        var peers: Bool
    }

    let path: String
    let fixed: Fixed
    let defaults: Live
    let node: MailServerNode
    let logger: Logger
    /// The file as last read, and the settings in effect.
    let state: Mutex<(file: ServeConfigFile, live: Live)>

    init(path: String, file: ServeConfigFile, live: Live, fixed: Fixed, defaults: Live, node: MailServerNode, logger: Logger) {
        self.path = path
        self.fixed = fixed
        self.defaults = defaults
        self.node = node
        self.logger = logger
        state = Mutex((file, live))
    }

    /// Reads the file again and applies what changed.
    func reload() {
        let file: ServeConfigFile
        do { file = try ServeConfigFile.load(path) } catch {
            logger.error("SIGHUP: the config was not reloaded; the settings stay as they were", metadata: ["error": "\(error)"])
            return
        }
        let (old, oldFile) = state.withLock { ($0.live, $0.file) }
        var new = old
        if !fixed.logLevel { new.logLevel = file.logLevel ?? defaults.logLevel }
        if !fixed.rateLimit { new.rateLimit = file.mailServerRateLimit ?? defaults.rateLimit }
        if !fixed.peers { new.peers = file.peers ?? defaults.peers }
        var changed: [String] = []
        if new.logLevel != old.logLevel, let level = new.logLevel {
            LogLine.level.withLock { $0 = level.level }
            changed.append("LogLevel \(old.logLevel?.rawValue ?? "info")→\(level.rawValue)")
        }
        if new.rateLimit != old.rateLimit {
            node.setRateLimit(new.rateLimit)
            changed.append("MailServerRateLimit \(old.rateLimit)→\(new.rateLimit)")
        }
        if new.peers != old.peers {
            let (added, removed) = node.setStaticPeers(new.peers.compactMap(EnodeURL.init))
            changed.append("Peers +\(added.count) −\(removed.count)")
        }
        state.withLock { $0 = (file, new) }
        var metadata: Logger.Metadata = ["file": "\(path)", "changed": "\(changed.isEmpty ? "nothing" : changed.joined(separator: ", "))"]
        let restart = Self.restartKeys(oldFile, file)
        if !restart.isEmpty { metadata["needs_restart"] = "\(restart.joined(separator: ","))" }
        var ignored: [String] = []
        if fixed.logLevel && file.logLevel != oldFile.logLevel { ignored.append("LogLevel") }
        if fixed.rateLimit && file.mailServerRateLimit != oldFile.mailServerRateLimit { ignored.append("MailServerRateLimit") }
        if fixed.peers && file.peers != oldFile.peers { ignored.append("Peers") }
        if !ignored.isEmpty { metadata["set_by_flags"] = "\(ignored.joined(separator: ","))" }
        logger.notice("SIGHUP: reloaded the config", metadata: metadata)
    }

    /// The keys that differ between two readings and take effect only at the next start (values not shown: the
    /// password and the node key are among them).
    static func restartKeys(_ a: ServeConfigFile, _ b: ServeConfigFile) -> [String] {
        var keys: [String] = []
        func check(_ name: String, _ x: String?, _ y: String?) { if x != y { keys.append(name) } }
        check("ListenAddr", a.listenAddr, b.listenAddr)
        check("AdvertiseAddr", a.advertiseAddr, b.advertiseAddr)
        check("NodeKey", a.nodeKey.map { $0.publicKey.bytes.hex }, b.nodeKey.map { $0.publicKey.bytes.hex })
        check("NodeKeyFile", a.nodeKeyFile, b.nodeKeyFile)
        check("MailServerPassword", a.mailServerPassword, b.mailServerPassword)
        check("MailServerDataRetention", a.mailServerDataRetention.map(String.init), b.mailServerDataRetention.map(String.init))
        check("MinimumPoW", a.minimumPoW.map { "\($0)" }, b.minimumPoW.map { "\($0)" })
        check("MaxMessageSize", a.maxMessageSize.map(String.init), b.maxMessageSize.map(String.init))
        check("MaxPeers", a.maxPeers.map(String.init), b.maxPeers.map(String.init))
        check("Metrics", a.metrics, b.metrics)
        check("ShutdownTimeout", a.shutdownTimeout.map { "\($0)" }, b.shutdownTimeout.map { "\($0)" })
        check("DataDir/PostgresURI", a.archive, b.archive)
        check("SyncPeers", a.syncPeers?.joined(separator: ","), b.syncPeers?.joined(separator: ","))
        check("TrustedPeers", a.trustedPeers?.joined(separator: ","), b.trustedPeers?.joined(separator: ","))
        check("SyncInterval", a.syncInterval.map { "\($0)" }, b.syncInterval.map { "\($0)" })
        check("SyncWindow", a.syncWindow.map { "\($0)" }, b.syncWindow.map { "\($0)" })
        return keys
    }
}
