import ArchiveStore
import Foundation
import PostgresNIO

/// Where a PostgreSQL archive is: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`
/// (also `postgresql://`), the form libpq and status-go take.
///
/// The password may also come from the `PGPASSWORD` environment variable, so that it stays out of process lists.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS.
    public enum TLSMode: String, Sendable, Hashable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it (libpq's default).
        case prefer
        /// TLS or no connection.
        case require
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The role to log in as.
    public var user: String
    /// The role's password, if any.
    public var password: String?
    /// The database.
    public var database: String
    /// TLS use.
    public var tls: TLSMode

    /// True when `text` is a PostgreSQL URL rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL; the error names what is wrong with it (and never shows the password).
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ArchiveError) {
        guard Self.isURL(text), let c = URLComponents(string: text) else {
            throw ArchiveError(.invalidArgument, "not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE): \(Self.redacted(text))")
        }
        guard let host = c.host, !host.isEmpty else {
            throw ArchiveError(.invalidArgument, "the PostgreSQL URL names no host: \(Self.redacted(text))")
        }
        let database = String(c.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw ArchiveError(.invalidArgument, "the PostgreSQL URL names no database (…/DATABASE): \(Self.redacted(text))")
        }
        guard let user = c.user, !user.isEmpty else {
            throw ArchiveError(.invalidArgument, "the PostgreSQL URL names no user (postgres://USER@…): \(Self.redacted(text))")
        }
        var tls = TLSMode.prefer
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw ArchiveError(.invalidArgument, "sslmode must be disable, prefer or require, not \(item.value ?? "empty")")
                }
                tls = mode
            default:
                throw ArchiveError(.invalidArgument, "unknown PostgreSQL URL parameter \(item.name) (only sslmode is read)")
            }
        }
        self.host = host
        self.port = c.port ?? 5432
        self.user = user
        self.password = c.password ?? environment["PGPASSWORD"]
        self.database = database
        self.tls = tls
    }

    /// The URL without its password: what logs and messages show.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// `text` with any password replaced by `***`.
    static func redacted(_ text: String) -> String {
        guard let at = text.range(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at.lowerBound else { return text }
        let credentials = text[scheme.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}

extension PostgresLocation {
    /// The pool's TLS setting for ``tls``: libpq's meaning of `sslmode`, with the system's trust roots.
    public var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }
}
