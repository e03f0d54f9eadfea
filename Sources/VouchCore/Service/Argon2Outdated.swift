/// Whether an argon2id PHC string was made with weaker cost parameters than
/// configured.  A fallback beside `PasswordVerification.match(needsRehash:)`
/// until every hasher reports it; harmless when both do.
enum Argon2Outdated {
    static func check(_ encoded: String, against parameters: Argon2Parameters) -> Bool {
        guard encoded.hasPrefix("$argon2id$") else { return false }
        // $argon2id$v=19$m=19456,t=2,p=1$salt$hash
        let fields = encoded.split(separator: "$")
        guard fields.count >= 3 else { return false }
        var memory: UInt32?
        var iterations: UInt32?
        for part in fields[2].split(separator: ",") {
            if part.hasPrefix("m=") { memory = UInt32(part.dropFirst(2)) }
            if part.hasPrefix("t=") { iterations = UInt32(part.dropFirst(2)) }
        }
        guard let memory, let iterations else { return false }
        return memory < parameters.memoryKiB || iterations < parameters.iterations
    }
}
