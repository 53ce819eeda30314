import ArgumentParser
import DevP2P
import EthCrypto
import Foundation
import PostgresArchive
import SystemErrorText

/// `serve --config FILE`: a JSON object whose keys follow status-go's node config where it has one
/// (`ListenAddr`, `AdvertiseAddr`, `NodeKey`, `MailServerPassword`, `MailServerRateLimit`, `MailServerDataRetention`, `MinimumPoW`,
/// `MaxMessageSize`, `MaxPeers`, `DataDir`, and `PostgresURI` for status-go's `PGConfig.URI`), and otherwise name
/// serve's flags (`NodeKeyFile`, `Metrics`, `Peers`, `ShutdownTimeout`, `LogLevel`). A flag given on the command
/// line wins over the file. SIGHUP reads it again: `LogLevel`, `MailServerRateLimit` and `Peers` change live.
///
/// Read strictly: an unknown key, a value of the wrong type or out of range is a usage error naming the file and
/// the key. (swift-configuration reads keys it is asked for and cannot tell an unknown key, which a typo makes.)
struct ServeConfigFile: Sendable {
    var listenAddr: String?
    /// status-go's `AdvertiseAddr`: the address the enode URL carries.
    var advertiseAddr: String?
    /// status-go's `NodeKey`: the private key itself, in hex.
    var nodeKey: PrivateKey?
    var nodeKeyFile: String?
    var mailServerPassword: String?
    var mailServerRateLimit: Double?
    /// Days; 0 (status-go's default) means no retention.
    var mailServerDataRetention: Int?
    var minimumPoW: Double?
    var maxMessageSize: Int?
    var maxPeers: Int?
    var metrics: String?
    var peers: [String]?
    var shutdownTimeout: Double?
    /// `LogLevel`: trace … error.
    var logLevel: LogLevelOption?
    /// The archive: `DataDir` (a directory, as status-go's data directory) or `PostgresURI` (status-go's
    /// `PGConfig.URI`, a `postgres://` URL).
    var archive: String?
    /// `SyncPeers`, `TrustedPeers` (enode URLs), `SyncInterval` and `SyncWindow` (seconds): serve's sync flags.
    var syncPeers: [String]?
    var trustedPeers: [String]?
    var syncInterval: Double?
    var syncWindow: Double?

    /// Every key, for the unknown-key message.
    static let keys = [
        "ListenAddr", "AdvertiseAddr", "NodeKey", "NodeKeyFile", "MailServerPassword", "MailServerRateLimit", "MailServerDataRetention",
        "MinimumPoW", "MaxMessageSize", "MaxPeers", "Metrics", "Peers", "ShutdownTimeout", "LogLevel", "DataDir", "PostgresURI",
        "SyncPeers", "TrustedPeers", "SyncInterval", "SyncWindow",
    ]

    /// A JSON value as decoded, telling booleans, numbers and strings apart.
    enum Value: Decodable {
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([Value])
        case other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let d = try? c.decode(Double.self) {
                self = .number(d)
            } else if let s = try? c.decode(String.self) {
                self = .string(s)
            } else if let a = try? c.decode([Value].self) {
                self = .array(a)
            } else {
                self = .other
            }
        }

        var kind: String {
            switch self {
            case .bool: return "a boolean"
            case .number: return "a number"
            case .string: return "a string"
            case .array: return "a list"
            case .other: return "an object or null"
            }
        }
    }

    /// Reads and checks `path`.
    static func load(_ path: String) throws -> ServeConfigFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("cannot read the config file: \(SystemErrorText.describe(error, subject: path))")
        }
        let object: [String: Value]
        do { object = try JSONDecoder().decode([String: Value].self, from: data) } catch {
            throw ValidationError("config \(path): not a JSON object of settings (\(Self.brief(error)))")
        }
        func fail(_ key: String, _ what: String, _ value: Value) -> ValidationError {
            ValidationError("config \(path): \(key) must be \(what), got \(Self.show(value))")
        }
        func string(_ key: String) throws -> String? {
            guard let v = object[key] else { return nil }
            guard case .string(let s) = v else { throw fail(key, "a string", v) }
            return s
        }
        func number(_ key: String, _ what: String, _ ok: (Double) -> Bool) throws -> Double? {
            guard let v = object[key] else { return nil }
            guard case .number(let d) = v, d.isFinite, ok(d) else { throw fail(key, what, v) }
            return d
        }
        func integer(_ key: String, _ what: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let v = object[key] else { return nil }
            guard case .number(let d) = v, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
                throw fail(key, what, v)
            }
            return Int(d)
        }
        for key in object.keys.sorted() where !keys.contains(key) {
            throw ValidationError("config \(path): unknown key \(key) (known: \(keys.joined(separator: ", ")))")
        }
        var c = ServeConfigFile()
        if let listen = try string("ListenAddr") {
            // status-go writes ":30303" for every interface.
            let full = listen.hasPrefix(":") ? "0.0.0.0" + listen : listen
            guard HostPort(full) != nil else { throw fail("ListenAddr", "HOST:PORT or :PORT", object["ListenAddr"]!) }
            c.listenAddr = full
        }
        if let advertise = try string("AdvertiseAddr") {
            guard ServeCommand.advertised(advertise) != nil else {
                throw fail("AdvertiseAddr", "an IP address, optionally with :PORT", object["AdvertiseAddr"]!)
            }
            c.advertiseAddr = advertise
        }
        if let hex = try string("NodeKey") {
            guard let bytes = try? Hex.decode(hex), bytes.count == 32, let key = try? PrivateKey(bytes: bytes) else {
                throw fail("NodeKey", "a secp256k1 private key in hex (64 digits)", .string("…"))
            }
            c.nodeKey = key
        }
        c.nodeKeyFile = try string("NodeKeyFile")
        if c.nodeKey != nil && c.nodeKeyFile != nil {
            throw ValidationError("config \(path): give NodeKey or NodeKeyFile, not both")
        }
        c.mailServerPassword = try string("MailServerPassword")
        c.mailServerRateLimit = try number("MailServerRateLimit", "a number of seconds ≥ 0") { $0 >= 0 }
        c.mailServerDataRetention = try integer("MailServerDataRetention", "a whole number of days ≥ 0 (0: keep everything)", 0...36_500)
        c.minimumPoW = try number("MinimumPoW", "a number ≥ 0") { $0 >= 0 }
        c.maxMessageSize = try integer("MaxMessageSize", "a whole number of bytes in 1024…10485760", 1024...(10 << 20))
        c.maxPeers = try integer("MaxPeers", "a whole number ≥ 1", 1...1_000_000)
        if let metrics = try string("Metrics") {
            guard HostPort(metrics) != nil else { throw fail("Metrics", "HOST:PORT", object["Metrics"]!) }
            c.metrics = metrics
        }
        func enodes(_ key: String) throws -> [String]? {
            guard let v = object[key] else { return nil }
            guard case .array(let items) = v else { throw fail(key, "a list of enode URLs", v) }
            return try items.map { item in
                guard case .string(let s) = item, EnodeURL(s) != nil else { throw fail(key, "a list of enode URLs", item) }
                return s
            }
        }
        c.peers = try enodes("Peers")
        c.syncPeers = try enodes("SyncPeers")
        c.trustedPeers = try enodes("TrustedPeers")
        c.syncInterval = try number("SyncInterval", "a number of seconds in 1…31536000") { $0 >= 1 && $0 <= 31_536_000 }
        c.syncWindow = try number("SyncWindow", "a number of seconds in 1…4294967295") { $0 >= 1 && $0 <= Double(UInt32.max) }
        c.shutdownTimeout = try number("ShutdownTimeout", "a number of seconds > 0") { $0 > 0 }
        if let level = try string("LogLevel") {
            guard let l = LogLevelOption(rawValue: level.lowercased()) else {
                throw fail("LogLevel", "one of " + LogLevelOption.allCases.map(\.rawValue).joined(separator: ", "), object["LogLevel"]!)
            }
            c.logLevel = l
        }
        let dataDir = try string("DataDir")
        let uri = try string("PostgresURI")
        if dataDir != nil && uri != nil { throw ValidationError("config \(path): give DataDir or PostgresURI, not both") }
        if let dataDir, dataDir.isEmpty { throw fail("DataDir", "a directory", object["DataDir"]!) }
        if let uri, !PostgresLocation.isURL(uri) { throw fail("PostgresURI", "a postgres:// URL", .string("…")) }
        c.archive = dataDir ?? uri
        return c
    }

    /// A value for a message: short, and never a secret's text.
    static func show(_ value: Value) -> String {
        switch value {
        case .bool(let b): return "\(b)"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .string(let s): return s.count > 80 ? "a string of \(s.count) characters" : "\"\(s)\""
        default: return value.kind
        }
    }

    static func brief(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let c) = error { return c.debugDescription }
        if case DecodingError.typeMismatch(_, let c) = error { return c.debugDescription }
        return "\(error)"
    }
}
