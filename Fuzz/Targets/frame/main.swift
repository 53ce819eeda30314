import FuzzHarness

/// libFuzzer's entry point: the RLPx frame decoder (FrameFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FrameFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
