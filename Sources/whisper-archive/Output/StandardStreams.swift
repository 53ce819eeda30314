#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to standard error without buffering.
func writeStandardError(_ text: String) {
    var t = text
    t.withUTF8 { buf in _ = write(2, buf.baseAddress, buf.count) }
}

/// Writes one line to standard output unbuffered, so a consumer sees each JSON event as it happens.
func writeLine(_ text: String) {
    var t = text + "\n"
    t.withUTF8 { buf in _ = write(1, buf.baseAddress, buf.count) }
}
