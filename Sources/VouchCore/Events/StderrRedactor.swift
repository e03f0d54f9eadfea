/// What a hook wrote on standard error, made safe to log: the event's
/// secrets are replaced by `[redacted]` *before* the text is cut to its
/// limit, so no secret (nor any part of one) survives the cut.  Anything
/// shaped like a vouch token (`vch_`, `vrp_`, `vev_` and base64url) is
/// redacted too, whole or partial, whatever event it came from.
struct StderrRedactor {
    static let marker = Array("[redacted]".utf8)
    static let tokenPrefixes = TokenPurpose.allCases.map { Array($0.prefix.utf8) }

    let secrets: [[UInt8]]
    let limit: Int

    init(secrets: [String], limit: Int) {
        self.secrets = secrets.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.limit = limit
    }

    /// Raw bytes worth keeping: enough past `limit` to see whole any secret
    /// or token that starts before it.
    var rawLimit: Int { limit + max(secrets.map(\.count).max() ?? 0, 4 + TokenCodec.longestEncodedLength) }

    /// `raw` (the first `rawLimit` bytes of the stream; `complete` when the
    /// stream ended within them) redacted, then cut to `limit` bytes.
    func redact(_ raw: [UInt8], complete: Bool) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count, out.count < limit {
            let rest = raw[i...]
            if let secret = secrets.first(where: { rest.starts(with: $0) }) {
                out += Self.marker
                i += secret.count
            } else if let length = Self.tokenLength(in: rest) {
                out += Self.marker
                i += length
            } else if !complete, secrets.contains(where: { $0.count > rest.count && $0.starts(with: rest) }) {
                break  // the start of a secret the cut would split: dropped with the rest
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return Array(out.prefix(limit))
    }

    /// The length of the token (or the start of one) at the head of `bytes`:
    /// a token prefix followed by base64url characters, or a bare prefix at
    /// the end of the bytes.
    static func tokenLength(in bytes: ArraySlice<UInt8>) -> Int? {
        guard let prefix = tokenPrefixes.first(where: { bytes.starts(with: $0) }) else { return nil }
        let body = bytes.dropFirst(prefix.count).prefix { isBase64URL($0) }
        return prefix.count + body.count
    }

    static func isBase64URL(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }
}
