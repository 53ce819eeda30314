import ArchiveStore
import DevP2P
import PostgresNIO

/// Plain words for what PostgresNIO reports, for the one-line errors a user reads.
///
/// `PSQLError`'s own description is deliberately generic ("Generic description to prevent accidental leakage"):
/// the server's message, the SQLSTATE and the socket error underneath are what an operator needs.
enum PostgresErrorText {
    /// An ``ArchiveError`` (code `.database`) saying what failed, while doing what, on which database.
    static func archiveError(_ error: any Error, while what: String, location: String) -> ArchiveError {
        if let e = error as? ArchiveError { return e }
        return ArchiveError(.database, "\(location): \(what) failed: \(words(error))")
    }

    /// The words for one error.
    static func words(_ error: any Error) -> String {
        if let e = error as? Deadline.Expired { return "no answer within \(e.after) (is the server up?)" }
        guard let e = error as? PSQLError else { return NetworkErrorText.describe(error) }
        if let message = e.serverInfo?[.message] {
            let state = e.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        switch e.code {
        case .connectionError:
            return e.underlying.map { NetworkErrorText.describe($0) } ?? "cannot connect"
        case .serverClosedConnection, .uncleanShutdown:
            return "the server closed the connection"
        case .clientClosedConnection, .poolClosed:
            return "the connection pool is closed"
        case .sslUnsupported:
            return "the server does not support TLS (sslmode=require)"
        case .queryCancelled:
            return "the statement was cancelled"
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none was given (PGPASSWORD or postgres://USER:PASSWORD@…)"
        case .unsupportedAuthMechanism:
            return "the server asks for an authentication method this client does not support"
        case .saslError:
            return "password authentication failed"
        default:
            return "\(e.code)"
        }
    }
}
