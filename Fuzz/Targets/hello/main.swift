import FuzzHarness

/// libFuzzer's entry point: Hello and Disconnect decoding (HelloFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    HelloFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
