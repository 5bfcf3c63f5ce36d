// The libFuzzer entry point of `scripts/fuzz`: compiled by that script (not by SwiftPM, whose
// executables bring their own `main`, which libFuzzer provides here) against the package's
// modules built with `-sanitize=fuzzer,address`. The target comes from MASSIVA_FUZZ_TARGET.
import MassivaFuzz
import MassivaSystem

let fuzzTarget: String = {
    guard let name = CurrentProcess.environment["MASSIVA_FUZZ_TARGET"], FuzzTargets.names.contains(name) else {
        preconditionFailure("MASSIVA_FUZZ_TARGET must be one of \(FuzzTargets.names)")
    }
    return name
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(fuzzTarget, bytes)
    return 0
}
