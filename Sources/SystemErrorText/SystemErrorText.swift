import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain words for the errors of the operating system and of Foundation, for messages a user reads.
///
/// Foundation reports a failed file operation as a `CocoaError` whose text is a dump
/// (`Error Domain=NSCocoaErrorDomain Code=257 …`); the POSIX code underneath says it in two words. Every
/// message that shows such an error goes through ``describe(_:subject:)``: `permission denied: PATH`.
public enum SystemErrorText {
    /// One line for `error`: its plain words, then `: subject` (a path, a peer) when given or known.
    ///
    /// POSIX errors and Foundation's errors (with their underlying POSIX error, or their Cocoa code) become
    /// words such as "no such file" or "permission denied"; any other error keeps its own description.
    public static func describe(_ error: any Error, subject: String? = nil) -> String {
        let words: String
        var knownSubject = subject
        if let e = error as? POSIXError {
            words = text(errno: e.code.rawValue)
        } else if let (w, path) = foundation(error) {
            words = w
            if knownSubject == nil { knownSubject = path }
        } else {
            words = oneLine(String(describing: error))
        }
        guard let knownSubject, !words.contains(knownSubject) else { return words }
        return "\(words): \(knownSubject)"
    }

    /// The plain words of `error` alone, for a message that names its subject already ("permission denied").
    public static func words(_ error: any Error) -> String {
        if let e = error as? POSIXError { return text(errno: e.code.rawValue) }
        if let (w, _) = foundation(error) { return w }
        return oneLine(String(describing: error))
    }

    /// Plain words for a POSIX `errno` value ("no such file", "connection refused").
    public static func text(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "is a directory (a file was expected)"
        case ENOTDIR: return "not a directory"
        case EEXIST: return "already exists"
        case ENOTEMPTY: return "directory not empty"
        case ENOSPC: return "no space left on the device"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "read-only file system"
        case EMFILE, ENFILE: return "too many open files"
        case EIO: return "input/output error"
        case ENAMETOOLONG: return "file name too long"
        case ELOOP: return "too many symbolic links"
        case EBUSY: return "busy"
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by the peer"
        case ECONNABORTED: return "connection aborted"
        case EPIPE: return "connection closed by the peer"
        case ETIMEDOUT: return "timed out"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case ENETDOWN: return "network down"
        case EADDRINUSE: return "address already in use"
        case EADDRNOTAVAIL: return "address not available on this machine"
        case EAFNOSUPPORT: return "address family not supported"
        default:
            guard let c = strerror(code) else { return "system error \(code)" }
            let s = String(cString: c)
            return s.prefix(1).lowercased() + s.dropFirst()
        }
    }

    /// Words and path of a Foundation error, when `error` is one.
    private static func foundation(_ error: any Error) -> (String, String?)? {
        let ns = error as NSError
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        if ns.domain == NSPOSIXErrorDomain { return (text(errno: Int32(ns.code)), path) }
        guard ns.domain == NSCocoaErrorDomain else { return nil }
        // On Linux the underlying error is a Swift error, not an NSError: bridge it.
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error {
            let u = underlying as NSError
            if u.domain == NSPOSIXErrorDomain { return (text(errno: Int32(u.code)), path) }
        }
        let words: String
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: words = "no such file"
        case .fileReadNoPermission, .fileWriteNoPermission: words = "permission denied"
        case .fileWriteFileExists: words = "already exists"
        case .fileWriteOutOfSpace: words = "no space left on the device"
        case .fileWriteVolumeReadOnly: words = "read-only file system"
        case .fileReadCorruptFile: words = "unreadable (corrupt) file"
        case .fileReadInapplicableStringEncoding: words = "not valid UTF-8 text"
        case .fileReadTooLarge: words = "file too large"
        case .fileLocking: words = "file is locked"
        case .fileReadInvalidFileName, .fileWriteInvalidFileName: words = "invalid file name"
        case .fileReadUnknown: words = "cannot read"
        case .fileWriteUnknown: words = "cannot write"
        default: words = "file operation failed (code \(ns.code))"
        }
        return (words, path)
    }

    /// `text` on one line.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
