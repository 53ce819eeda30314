import FuzzHarness

/// libFuzzer's entry point: shh/6 and waku/1 status (StatusFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    StatusFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
