// libFuzzer target for the vouch wire format: the frame splitter, the request
// decoder (what vouchd runs on every frame it receives) and the response
// decoder (what clients run on what the daemon sends).  Built by `make fuzz`
// (mk/fuzz.mk) with `swiftc -sanitize=fuzzer,address` against the
// VouchSecrets and VouchProtocol sources.
//
// Properties checked on every input, besides "does not crash":
// - a request payload that decodes re-encodes to exactly the same bytes
//   (the encoding is canonical: one byte sequence per request);
// - the frame splitter never returns a payload longer than its cap, and the
//   payloads it returns with their prefixes add up to a prefix of the input.

import VouchProtocol
import VouchSecrets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)

    // 1. The whole input as one request payload.
    checkRequest(input)

    // 2. The whole input as one response payload.
    if let response = try? ResponseMessage.decode(payload: input) {
        _ = response.message.utf8.count
        if case .login(_, let token)? = response.reply { _ = token?.token.count }
    }

    // 3. The input as a stream of frames, each payload decoded as a request.
    var splitter = FrameSplitter(maxFrameBytes: 4096)
    splitter.append(UnsafeBufferPointer(start: data, count: size))
    var consumed = 0
    while true {
        let payload: [UInt8]?
        do {
            payload = try splitter.next()
        } catch {
            break
        }
        guard let payload else { break }
        precondition(payload.count >= 1 && payload.count <= 4096, "splitter returned a payload over its cap")
        consumed += 4 + payload.count
        precondition(consumed <= size, "splitter returned more bytes than it was given")
        payload.withUnsafeBytes { checkRequest($0) }
    }
    return 0
}

/// Decodes a request payload; a request that decodes must re-encode to the same bytes.
func checkRequest(_ payload: UnsafeRawBufferPointer) {
    switch RequestMessage.decode(payload: payload) {
    case .request(let id, let request):
        let frame = RequestMessage(id: id, request: request).encodeFrame(version: payload[0])
        precondition(frame.count == payload.count + 4, "re-encoded request has another length")
        precondition(frame.dropFirst(4).elementsEqual(payload), "re-encoded request differs")
    case .failure(_, _, _, let message):
        precondition(message.utf8.count < 4096, "over-long error message")
    case .denied:
        preconditionFailure("every opcode is permitted here")
    }
}
