import CLZ4
import Foundation
import SystemErrorText

/// Reads a file in chunks, decompressing the LZ4 frame format when the path ends in `.lz4`. The file is opened
/// read-only (O_RDONLY) and nothing is ever written.
final class ByteInput {
    let path: String
    private let handle: FileHandle
    private let lz4: OpaquePointer?
    private var pendingCompressed: [UInt8] = []
    private var pendingStart = 0
    private var eof = false
    /// Bytes read from the file as stored.
    private(set) var fileBytesRead: Int64 = 0

    init(path: String) throws(FormatError) {
        self.path = path
        let fd = try FileProbe.openForReading(path)
        var st = stat()
        if fstat(fd, &st) == 0, FileProbe.kind(of: st) == .directory {
            close(fd)
            throw FormatError(.unsupported, path: path, headline: "is a directory")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        if path.hasSuffix(".lz4") {
            var ctx: OpaquePointer?
            let rc = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
            guard LZ4F_isError(rc) == 0, let ctx else { throw FormatError(.io, path: path, "cannot create an LZ4 context") }
            lz4 = ctx
        } else {
            lz4 = nil
        }
    }

    deinit {
        if let lz4 { LZ4F_freeDecompressionContext(lz4) }
        try? handle.close()
    }

    private func readFile(_ n: Int) throws(FormatError) -> [UInt8] {
        do {
            let d = try handle.read(upToCount: n) ?? Data()
            fileBytesRead += Int64(d.count)
            return [UInt8](d)
        } catch {
            throw FormatError(.io, path: path, offset: fileBytesRead, "read failed: \(SystemErrorText.words(error))")
        }
    }

    /// The next chunk of (decompressed) bytes; empty at the end.
    func read(max: Int = 1 << 20) throws(FormatError) -> [UInt8] {
        guard let lz4 else { return try readFile(max) }
        var out = [UInt8](repeating: 0, count: max)
        var produced = 0
        while produced == 0 {
            if pendingStart >= pendingCompressed.count {
                if eof { return [] }
                pendingCompressed = try readFile(256 << 10)
                pendingStart = 0
                if pendingCompressed.isEmpty {
                    eof = true
                    return []
                }
            }
            var dstSize = max
            var srcSize = pendingCompressed.count - pendingStart
            let rc = pendingCompressed.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4F_decompress(lz4, dst.baseAddress, &dstSize, src.baseAddress! + pendingStart, &srcSize, nil)
                }
            }
            if LZ4F_isError(rc) != 0 {
                throw FormatError(.io, path: path, offset: fileBytesRead, "LZ4 frame error: \(String(cString: LZ4F_getErrorName(rc)))")
            }
            pendingStart += srcSize
            produced = dstSize
            if produced == 0 && srcSize == 0 && pendingStart < pendingCompressed.count {
                throw FormatError(.io, path: path, offset: fileBytesRead, "LZ4 frame makes no progress")
            }
        }
        out.removeSubrange(produced...)
        return out
    }
}
