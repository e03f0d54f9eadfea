import VouchSecrets

/// One unit of input a connection acts on.
public enum InboundFrame: Sendable {
    case decoded(DecodedRequest)
    /// The length prefix exceeds the cap; nothing of the payload was buffered.
    case tooLarge(UInt32)
    /// A zero length prefix.
    case empty
}

/// Splits the byte stream a peer sends into frames and decodes each request
/// in place: the server's one framer (vouchd's connection handler feeds it
/// what it read; the fuzzer feeds it arbitrary bytes).
///
/// Plain state, no I/O.  The length prefix is checked against the cap
/// before any of the payload is buffered.  A request whose opcode the peer
/// may not use is refused from its header, before its body is decoded.  A
/// frame whose opcode carries a password or token is to be zeroed by the
/// caller once read, whether or not it decoded (`Cut.wipe`).  After an
/// oversized or empty frame the stream has no trustworthy frame boundary, so
/// everything after it is discarded (the connection closes).
public struct RequestFramer: Sendable {
    public let maxFrameBytes: Int
    /// The peer is an admin (may use every opcode).
    public let isAdmin: Bool
    public private(set) var poisoned = false

    public init(maxFrameBytes: Int, isAdmin: Bool = true) {
        self.maxFrameBytes = maxFrameBytes
        self.isAdmin = isAdmin
    }

    /// What the front of the input held.
    public struct Cut {
        /// The frame, nil when more bytes are needed.
        public var frame: InboundFrame?
        /// Bytes to consume from the front of the input.
        public var consumed: Int
        /// The consumed bytes hold a secret: zero them.
        public var wipe: Bool
    }

    /// The next whole frame at the front of `bytes` (the unread input).
    public mutating func next(from bytes: UnsafeRawBufferPointer) -> Cut {
        if poisoned { return Cut(frame: nil, consumed: bytes.count, wipe: false) }
        guard bytes.count >= Frame.lengthPrefixSize else { return Cut(frame: nil, consumed: 0, wipe: false) }
        let length = bytes.prefix(Frame.lengthPrefixSize).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        switch Frame.check(length: length, max: maxFrameBytes) {
        case .empty:
            poisoned = true
            return Cut(frame: .empty, consumed: bytes.count, wipe: false)
        case .tooLarge(let n):
            poisoned = true
            return Cut(frame: .tooLarge(n), consumed: bytes.count, wipe: false)
        case .ok(let n):
            let total = Frame.lengthPrefixSize + n
            guard bytes.count >= total else { return Cut(frame: nil, consumed: 0, wipe: false) }
            let isAdmin = self.isAdmin
            let decoded = RequestMessage.decode(
                payload: UnsafeRawBufferPointer(rebasing: bytes[Frame.lengthPrefixSize..<total]),
                permits: { isAdmin || $0.isOpenToAnyPeer })
            let wipe = n > 1 && Opcode(rawValue: bytes[Frame.lengthPrefixSize + 1])?.carriesSecret == true
            return Cut(frame: .decoded(decoded), consumed: total, wipe: wipe)
        }
    }
}
