import FuzzHarness

/// libFuzzer's entry point: the 0x7d completion decoder (CompletionFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    CompletionFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
