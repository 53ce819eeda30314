import CLZ4
import Foundation
import SystemErrorText

/// Writes an ``OutputFile`` through a buffer, compressing with the LZ4 frame format when the path ends in `.lz4`.
final class ByteOutput {
    let path: String
    private let output: OutputFile
    private let lz4: OpaquePointer?
    private var buffer: [UInt8] = []
    private var compressed: [UInt8] = []
    /// Bytes written to the file.
    private(set) var bytesWritten: Int64 = 0
    private static let chunk = 1 << 20

    /// Opens `path` (see ``OutputFile``); an existing regular file is replaced only when `replacing` is true.
    init(path: String, replacing: Bool) throws(FormatError) {
        self.path = path
        output = try OutputFile(path: path, replacing: replacing)
        buffer.reserveCapacity(ByteOutput.chunk + 65536)
        if path.hasSuffix(".lz4") {
            var ctx: OpaquePointer?
            let rc = LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))
            guard LZ4F_isError(rc) == 0, let ctx else { throw FormatError(.io, path: path, "cannot create an LZ4 context") }
            lz4 = ctx
            compressed = [UInt8](repeating: 0, count: LZ4F_compressBound(ByteOutput.chunk, nil) + 64)
            let n = compressed.withUnsafeMutableBytes { LZ4F_compressBegin(ctx, $0.baseAddress, $0.count, nil) }
            guard LZ4F_isError(n) == 0 else { throw FormatError(.io, path: path, "LZ4 frame header failed") }
            try writeFile(Array(compressed[0..<n]))
        } else {
            lz4 = nil
        }
    }

    deinit {
        if let lz4 { LZ4F_freeCompressionContext(lz4) }
    }

    private func writeFile(_ bytes: [UInt8]) throws(FormatError) {
        try output.write(bytes)
        bytesWritten += Int64(bytes.count)
    }

    func write<C: Collection>(_ bytes: C) throws(FormatError) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= ByteOutput.chunk { try flushBuffer() }
    }

    private func flushBuffer() throws(FormatError) {
        guard !buffer.isEmpty else { return }
        guard let lz4 else {
            try writeFile(buffer)
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var start = 0
        while start < buffer.count {
            let n = min(ByteOutput.chunk, buffer.count - start)
            let r = buffer.withUnsafeBytes { src in
                compressed.withUnsafeMutableBytes { dst in
                    LZ4F_compressUpdate(lz4, dst.baseAddress, dst.count, src.baseAddress! + start, n, nil)
                }
            }
            guard LZ4F_isError(r) == 0 else { throw FormatError(.io, path: path, "LZ4 compression failed") }
            try writeFile(Array(compressed[0..<r]))
            start += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, ends the LZ4 frame and commits the output (a regular file is synced and renamed into place).
    func finish() throws(FormatError) {
        try flushBuffer()
        if let lz4 {
            let r = compressed.withUnsafeMutableBytes { LZ4F_compressEnd(lz4, $0.baseAddress, $0.count, nil) }
            guard LZ4F_isError(r) == 0 else { throw FormatError(.io, path: path, "LZ4 frame end failed") }
            try writeFile(Array(compressed[0..<r]))
        }
        try output.commit()
    }
}
