import FuzzHarness

/// libFuzzer's entry point: the jsonl source (JSONLFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    JSONLFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
