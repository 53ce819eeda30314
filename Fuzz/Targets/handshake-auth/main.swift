import FuzzHarness

/// libFuzzer's entry point: RLPx auth packets (HandshakeAuthFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HandshakeAuthFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
