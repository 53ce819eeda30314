import FuzzHarness

/// libFuzzer's entry point: a fuzzed MANIFEST (StoreManifestFuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    StoreManifestFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
