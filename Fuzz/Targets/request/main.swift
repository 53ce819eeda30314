import FuzzHarness

/// libFuzzer's entry point: request payload dialects (RequestFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RequestFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
