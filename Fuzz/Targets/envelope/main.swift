import FuzzHarness

/// libFuzzer's entry point: envelope decoding and receive checks (EnvelopeFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    EnvelopeFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
