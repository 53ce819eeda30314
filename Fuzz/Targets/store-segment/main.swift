import FuzzHarness

/// libFuzzer's entry point: a fuzzed segment in an archive (StoreSegmentFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    StoreSegmentFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
