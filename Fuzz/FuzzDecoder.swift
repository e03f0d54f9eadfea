// libFuzzer target for the vouch wire format: vouchd's own framer
// (RequestFramer: length prefixes, the cap, permissions from the header,
// decoding, which frames to wipe), the request decoder and the response
// decoder (what clients run on what the daemon sends).  Built by `make fuzz`
// (mk/fuzz.mk) with `swiftc -sanitize=fuzzer,address` against the
// VouchSecrets and VouchProtocol sources.
//
// Properties checked on every input, besides "does not crash":
// - a request payload that decodes re-encodes to exactly the same bytes
//   (the encoding is canonical: one byte sequence per request);
// - the framer never consumes more than it was given, cuts frames no longer
//   than its cap, refuses to an unprivileged peer exactly the admin opcodes,
//   marks for wiping exactly the frames of opcodes that carry a secret, and
//   after a bad length prefix takes nothing more from the stream.

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

    // 3. The input as the byte stream a peer sends, cut by vouchd's own
    //    framer, as an admin and as an unprivileged peer.
    for isAdmin in [true, false] { checkStream(input, isAdmin: isAdmin) }
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

/// Feeds `input` through the server's framer as one read.
func checkStream(_ input: UnsafeRawBufferPointer, isAdmin: Bool) {
    var framer = RequestFramer(maxFrameBytes: 4096, isAdmin: isAdmin)
    var offset = 0
    while offset < input.count {
        let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
        let cut = framer.next(from: rest)
        precondition(cut.consumed >= 0 && cut.consumed <= rest.count, "framer consumed bytes it was not given")
        guard let frame = cut.frame else {
            precondition(cut.consumed == 0 || framer.poisoned, "bytes consumed without a frame")
            break
        }
        switch frame {
        case .decoded(let decoded):
            precondition(cut.consumed >= 5 && cut.consumed <= 4 + 4096, "frame outside the cap")
            let payload = UnsafeRawBufferPointer(rebasing: rest[4..<cut.consumed])
            let opcode = payload.count > 1 ? Opcode(rawValue: payload[1]) : nil
            precondition(cut.wipe == (opcode?.carriesSecret == true), "wrong wipe decision")
            switch decoded {
            case .denied(_, let op):
                precondition(!isAdmin && !op.isOpenToAnyPeer, "a permitted opcode was denied")
            case .request(_, let request):
                precondition(isAdmin || request.opcode.isOpenToAnyPeer, "an admin opcode was let through")
                checkRequest(payload)
            case .failure:
                break
            }
        case .tooLarge(let n):
            precondition(n > 4096 && framer.poisoned, "a frame within the cap was refused")
        case .empty:
            precondition(framer.poisoned, "an empty frame did not end the stream")
        }
        offset += cut.consumed
    }
}
