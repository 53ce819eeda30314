import FuzzHarness

/// libFuzzer's entry point: the LZ4 frame reader (LZ4Fuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    LZ4Fuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
