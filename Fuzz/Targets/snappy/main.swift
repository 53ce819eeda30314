import FuzzHarness

/// libFuzzer's entry point: snappy decompression (SnappyFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    SnappyFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
