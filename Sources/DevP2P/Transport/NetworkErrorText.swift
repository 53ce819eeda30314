import NIOCore
import NIOPosix
import SystemErrorText

/// Plain words for the errors of NIO sockets, for messages a user reads: "connection refused: 127.0.0.1:30303".
///
/// NIO reports a refused connection as `NIOConnectionError(… SingleConnectionFailure(… IOError(…)))`; the errno
/// underneath is what a user needs. An ``RLPxError`` is said without its `RLPx:` prefix; errors that are
/// neither go to ``SystemErrorText``.
public enum NetworkErrorText {
    /// One line for `error`, then `: peer` (`host:port`) when given.
    public static func describe(_ error: any Error, peer: String? = nil) -> String {
        let words: String
        if let e = error as? RLPxError {
            var w = e.code.rawValue
            if let reason = e.remoteReason { w += " (\(reason))" }
            // A closed connection's detail is the socket's own words ("connection refused: host:port").
            if let detail = e.detail { w = e.code == .connectionClosed || e.code == .nodeKey ? detail : "\(w): \(detail)" }
            words = w
        } else if let e = error as? IOError {
            words = SystemErrorText.text(errno: e.errnoCode)
        } else if let e = error as? NIOConnectionError {
            if let dns = e.dnsAError ?? e.dnsAAAAError {
                words = "cannot resolve \(e.host) (\(describe(dns)))"
            } else if let first = e.connectionErrors.first {
                words = describe(first.error)
            } else {
                words = "no address to connect to for \(e.host)"
            }
        } else if let e = error as? ChannelError {
            switch e {
            case .connectTimeout(let t): words = "timed out after \(seconds(t)) connecting"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed: words = "connection closed"
            case .writeHostUnreachable: words = "host unreachable"
            default: words = "connection failed (\(e))"
            }
        } else if let e = error as? SocketAddressError {
            switch e {
            case .unknown(let host, _): words = "cannot resolve \(host)"
            default: words = "bad address (\(e))"
            }
        } else {
            return SystemErrorText.describe(error, subject: peer)
        }
        guard let peer, !words.contains(peer) else { return words }
        return "\(words): \(peer)"
    }

    private static func seconds(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }
}
