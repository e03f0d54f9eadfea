/// A parsed PHC string as libargon2 writes it:
/// `$<id>[$v=<version>]$<k>=<v>[,<k>=<v>...]$<salt>$<hash>`, with salt and
/// hash in standard base64 without padding.
///
/// Parsing never traps: anything malformed gives nil.
struct PHCString {
    /// Longest stored string vouch looks at; real ones are about 100 bytes.
    static let maxEncodedLength = 512

    var id: String
    var version: UInt32?
    var parameters: [(key: String, value: UInt32)]
    var salt: [UInt8]
    var hash: [UInt8]

    init?(_ encoded: String) {
        guard encoded.utf8.count <= PHCString.maxEncodedLength else { return nil }
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        // "" id [v=..] params salt hash
        guard parts.count == 5 || parts.count == 6, parts[0].isEmpty, !parts[1].isEmpty else {
            return nil
        }
        id = String(parts[1])
        var index = 2
        if parts.count == 6 {
            guard parts[2].hasPrefix("v="), let v = PHCString.decimal(parts[2].dropFirst(2)) else {
                return nil
            }
            version = v
            index = 3
        } else {
            version = nil
        }
        var parameters: [(key: String, value: UInt32)] = []
        for field in parts[index].split(separator: ",", omittingEmptySubsequences: false) {
            let kv = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].isEmpty, let value = PHCString.decimal(kv[1]) else {
                return nil
            }
            let key = String(kv[0])
            guard !parameters.contains(where: { $0.key == key }) else { return nil }
            parameters.append((key, value))
        }
        self.parameters = parameters
        guard let salt = Base64.decode(parts[index + 1]), let hash = Base64.decode(parts[index + 2])
        else { return nil }
        self.salt = salt
        self.hash = hash
    }

    func parameter(_ key: String) -> UInt32? {
        parameters.first(where: { $0.key == key })?.value
    }

    /// Decimal digits only (no sign, no spaces), at most 10 of them, fitting UInt32.
    static func decimal(_ s: Substring) -> UInt32? {
        guard !s.isEmpty, s.utf8.count <= 10, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return UInt32(s)
    }
}
