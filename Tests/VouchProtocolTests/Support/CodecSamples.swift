import VouchSecrets

@testable import VouchProtocol

/// Sample values of every request and reply, and structural equality for the
/// cases that hold secrets (`SecretBytes` is deliberately not `Equatable`).
enum CodecSamples {
    static let uuid = WireUUID(string: "00112233-4455-6677-8899-aabbccddeeff")!
    static let otherUUID = WireUUID(string: "FFEEDDCC-BBAA-9988-7766-554433221100")!

    static let minimalUser = UserRecord(
        id: 1, uuid: uuid, username: "bob", email: nil, flags: [], createdAt: 0, updatedAt: 0,
        lastLogin: nil)
    static let fullUser = UserRecord(
        id: Int64.max, uuid: otherUUID, username: "Zoë_ünïcode-ñame", email: "zoë@example.org",
        flags: .all, createdAt: -1, updatedAt: 1_700_000_000_000, lastLogin: 1_700_000_001_000,
        failedLogins: UInt32.max, lockedUntil: Int64.max)
    static let lockedUser = UserRecord(
        id: 42, uuid: uuid, username: "carol", email: "", flags: [.active, .verified],
        createdAt: 1, updatedAt: 2, lastLogin: 3, failedLogins: 5, lockedUntil: 1_700_000_900_000)

    static func secret(_ s: String) -> SecretBytes { SecretBytes(utf8: s) }

    static let selectors: [UserSelector] = [
        .id(0), .id(-1), .id(Int64.max), .uuid(uuid), .username("bob"), .username(""), .any("Zoë"),
        .any("00112233-4455-6677-8899-aabbccddeeff"),
    ]

    /// At least one request per opcode, several for the ones with options.
    static var requests: [Request] {
        var all: [Request] = [
            .hello(clientName: "vouchctl"), .hello(clientName: ""), .ping, .status,
            .createUser(username: "bob", email: nil, password: secret("correct horse 1"), flags: .active),
            .createUser(username: "zoë", email: "z@example.org", password: secret("pässwörd 1"), flags: .all),
            .createUser(username: "x", email: "", password: secret(""), flags: []),
            .login(username: "bob", password: secret("correct horse 1"), wantToken: false, context: LoginContext()),
            .login(
                username: "bob", password: secret("pw"), wantToken: true,
                context: LoginContext(service: "sshd", remoteHost: "10.0.0.1", tty: "pts/0")),
            .changePassword(username: "bob", old: secret("old one 1"), new: secret("new one 2")),
            .listUsers(limit: 20, page: 1, order: .username, descending: false),
            .listUsers(limit: UInt32.max, page: 0, order: .lastLogin, descending: true),
            .updateUser(user: .any("bob"), email: nil, flagMask: [], flagValues: []),
            .updateUser(user: .id(3), email: .some(nil), flagMask: .all, flagValues: [.active, .verified]),
            .updateUser(user: .uuid(uuid), email: .some("new@example.org"), flagMask: [.admin], flagValues: []),
            .verifyToken(secret("vch_abc")), .revokeToken(secret("vch_def")),
            .issueToken(user: .username("bob"), label: "laptop", ttlSeconds: 0),
            .issueToken(user: .id(9), label: "", ttlSeconds: Int64.min),
            .forgotPassword(usernameOrEmail: "bob@example.org"),
            .resetPassword(token: secret("vrp_x"), password: secret("new password 3")),
            .verifyEmail(token: secret("vev_y")),
            .listEvents(user: nil, sinceMillis: 0, limit: 100),
            .listEvents(user: .any("bob"), sinceMillis: -5, limit: UInt32.max),
        ]
        for s in selectors {
            all += [
                .setPassword(user: s, password: secret("set password 4")), .getUser(s), .deleteUser(s),
                .revokeTokens(s), .listTokens(s), .requestVerify(s),
            ]
        }
        for order in UserSortOrder.allCases {
            all.append(.listUsers(limit: 1, page: 2, order: order, descending: order.rawValue % 2 == 0))
        }
        let imported = UserDataRecord(
            uuid: WireUUID(string: "00112233-4455-6677-8899-aabbccddeeff"), username: "imp", email: "i@example.org",
            passwordHash: "$y$j9T$salt$hash", flags: [.active, .verified], createdAt: 1, updatedAt: 2, lastLogin: 3,
            failedLogins: 4, lockedUntil: 5)
        all += [
            .accountStatus(username: "bob"), .accountStatus(username: ""), .unlockUser(.any("bob")),
            .data(.backupBegin), .data(.backupRead(backupID: 7, offset: 65536, maxBytes: 65536)),
            .data(.backupEnd(backupID: 7)), .data(.exportUsers(afterID: 10, limit: 100)),
            .data(.importBegin(onConflict: 2, dryRun: true)),
            .data(.importAdd(importID: 3, users: [imported, UserDataRecord(username: "min", passwordHash: "!")])),
            .data(.importCommit(importID: 3)),
            .linux(.getLinuxAccount(.username("bob"))),
            .linux(.setLinuxAccount(.id(3), LinuxAccountChange())),
            .linux(
                .setLinuxAccount(
                    .any("bob"), LinuxAccountChange(login: false, realName: "Bob B", home: "", shell: "/bin/sh"))),
            .linux(.addSSHKey(.username("bob"), key: "ssh-ed25519 AAAA bob@host")),
            .linux(.removeSSHKey(.username("bob"), key: "AAAA")),
            .linux(.setPasswordAging(.username("bob"), maxAge: nil, expire: true)),
            .linux(.setPasswordAging(.username("bob"), maxAge: .some(nil), expire: false)),
            .linux(.setPasswordAging(.username("bob"), maxAge: .some(86400), expire: false)),
        ]
        return all
    }

    /// Replies of the data operations (backup, export, import).
    static var dataReplies: [(Opcode, Reply)] {
        let exported = UserDataRecord(
            id: 9, uuid: WireUUID(string: "00112233-4455-6677-8899-aabbccddeeff"), username: "exp", email: nil,
            passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", flags: .active, createdAt: 1, updatedAt: 2,
            lastLogin: nil, failedLogins: 0, lockedUntil: nil)
        let linux = LinuxAccountRecord(
            userId: 1, username: "bob", login: true, uid: 70000, realName: "Bob", home: "/home/bob", shell: "/bin/bash",
            passwordChangedAt: 5, passwordMaxAge: 86400, effectiveMaxAge: 86400, mustChangePassword: true,
            passwordState: .mustChange, sshKeys: ["ssh-ed25519 AAAA bob@host", "ssh-rsa BBBB"])
        let plain = LinuxAccountRecord(
            userId: 2, username: "web", login: false, uid: 0, realName: "", home: "/home/web", shell: "/bin/bash",
            passwordChangedAt: nil, passwordMaxAge: nil, effectiveMaxAge: 0, mustChangePassword: false,
            passwordState: .current, sshKeys: [])
        let linuxReplies: [(Opcode, Reply)] = [
            Opcode.getLinuxAccount, .setLinuxAccount, .addSSHKey, .removeSSHKey,
            .setPasswordAging,
        ].flatMap { [($0, Reply.linuxAccount(linux)), ($0, Reply.linuxAccount(plain))] }
        return linuxReplies + [
            (.accountStatus, .accountState(.active)), (.accountStatus, .accountState(.inactive)),
            (.accountStatus, .accountState(.locked)), (.unlockUser, .user(fullUser)),
            (.backupBegin, .data(.backupStarted(backupID: 1, size: 4096, users: 2))),
            (.backupRead, .data(.chunk([0, 1, 2, 255]))), (.backupEnd, .data(.done)),
            (.exportUsers, .data(.exported([exported]))), (.importBegin, .data(.importStarted(importID: 4))),
            (.importAdd, .data(.importStaged(total: 2))),
            (
                .importCommit,
                .data(
                    .imported(
                        ImportReport(
                            created: 1, updated: 0, skipped: 1, written: true,
                            problems: [ImportProblemRecord(index: 2, status: .usernameTaken, reason: "taken")])))
            ),
        ]
    }

    /// At least one successful reply per opcode.
    static var replies: [(Opcode, Reply)] {
        let users = [minimalUser, fullUser, lockedUser]
        var all: [(Opcode, Reply)] = [
            (.hello, .hello(ServerHello(minVersion: 1, maxVersion: 1, maxFrameBytes: 65536, serverVersion: "0.1.0"))),
            (.ping, .empty),
            (
                .status,
                .status(
                    ServerStatus(
                        serverVersion: "0.1.0", uptimeMillis: 12, users: 3, tokens: 0, requestsServed: Int64.max,
                        connections: -1))
            ),
            (.changePassword, .empty), (.setPassword, .empty), (.deleteUser, .empty), (.revokeToken, .empty),
            (.forgotPassword, .empty), (.resetPassword, .empty), (.requestVerify, .empty),
            (.login, .login(user: fullUser, token: nil)),
            (
                .login,
                .login(
                    user: minimalUser,
                    token: IssuedToken(token: secret("vch_" + String(repeating: "A", count: 43)), expiresAt: 99))
            ),
            (.listUsers, .users(total: 0, users: [])),
            (.listUsers, .users(total: 1000, users: users)),
            (.updateUser, .updated(user: lockedUser, changed: [])),
            (.updateUser, .updated(user: fullUser, changed: ["email", "active", "admin", "superuser", "verified"])),
            (.verifyToken, .tokenOwner(user: minimalUser, expiresAt: Int64.min)),
            (.revokeTokens, .count(0)), (.revokeTokens, .count(UInt32.max)),
            (.issueToken, .issuedToken(IssuedToken(token: secret("vch_t"), expiresAt: 1))),
            (.listTokens, .tokens([])),
            (
                .listTokens,
                .tokens([
                    TokenInfo(id: 1, label: "laptop", createdAt: 1, expiresAt: 2, lastUsed: nil),
                    TokenInfo(id: 2, label: "", createdAt: 3, expiresAt: 4, lastUsed: 5),
                ])
            ),
            (.listEvents, .events([])),
            (
                .listEvents,
                .events([
                    EventRecord(
                        id: 1, time: 2, event: "login", userId: 3, username: "bob", peerUid: 0, peerPid: 77,
                        detail: "{}"),
                    EventRecord(
                        id: 4, time: 5, event: "login_failed", userId: nil, username: "nobody", peerUid: 65534,
                        peerPid: -1, detail: "{\"service\":\"sshd\"}"),
                ])
            ),
        ]
        for op in [Opcode.createUser, .getUser, .verifyEmail] {
            for u in users { all.append((op, .user(u))) }
        }
        return all + dataReplies
    }
}

extension SecretBytes {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// Structural equality of requests, comparing secrets byte for byte.
func same(_ a: Request, _ b: Request) -> Bool {
    switch (a, b) {
    case (.hello(let x), .hello(let y)): return x == y
    case (.ping, .ping), (.status, .status): return true
    case (.createUser(let u1, let e1, let p1, let f1), .createUser(let u2, let e2, let p2, let f2)):
        return u1 == u2 && e1 == e2 && p1.bytes == p2.bytes && f1 == f2
    case (.login(let u1, let p1, let w1, let c1), .login(let u2, let p2, let w2, let c2)):
        return u1 == u2 && p1.bytes == p2.bytes && w1 == w2 && c1 == c2
    case (.changePassword(let u1, let o1, let n1), .changePassword(let u2, let o2, let n2)):
        return u1 == u2 && o1.bytes == o2.bytes && n1.bytes == n2.bytes
    case (.setPassword(let s1, let p1), .setPassword(let s2, let p2)): return s1 == s2 && p1.bytes == p2.bytes
    case (.getUser(let x), .getUser(let y)), (.deleteUser(let x), .deleteUser(let y)),
        (.revokeTokens(let x), .revokeTokens(let y)), (.listTokens(let x), .listTokens(let y)),
        (.requestVerify(let x), .requestVerify(let y)):
        return x == y
    case (.listUsers(let l1, let p1, let o1, let d1), .listUsers(let l2, let p2, let o2, let d2)):
        return l1 == l2 && p1 == p2 && o1 == o2 && d1 == d2
    case (.updateUser(let s1, let e1, let m1, let v1), .updateUser(let s2, let e2, let m2, let v2)):
        return s1 == s2 && e1 == e2 && m1 == m2 && v1 == v2
    case (.verifyToken(let x), .verifyToken(let y)), (.revokeToken(let x), .revokeToken(let y)),
        (.verifyEmail(let x), .verifyEmail(let y)):
        return x.bytes == y.bytes
    case (.issueToken(let s1, let l1, let t1), .issueToken(let s2, let l2, let t2)):
        return s1 == s2 && l1 == l2 && t1 == t2
    case (.forgotPassword(let x), .forgotPassword(let y)): return x == y
    case (.data, .data), (.accountStatus, .accountStatus), (.unlockUser, .unlockUser):
        return requestBytes(a) == requestBytes(b)
    case (.linux(let x), .linux(let y)): return x == y
    case (.resetPassword(let t1, let p1), .resetPassword(let t2, let p2)):
        return t1.bytes == t2.bytes && p1.bytes == p2.bytes
    case (.listEvents(let u1, let s1, let l1), .listEvents(let u2, let s2, let l2)):
        return u1 == u2 && s1 == s2 && l1 == l2
    default: return false
    }
}

/// Structural equality of replies, comparing tokens byte for byte.
func same(_ a: Reply, _ b: Reply) -> Bool {
    func token(_ x: IssuedToken?, _ y: IssuedToken?) -> Bool {
        switch (x, y) {
        case (nil, nil): return true
        case (let x?, let y?): return x.token.bytes == y.token.bytes && x.expiresAt == y.expiresAt
        default: return false
        }
    }
    switch (a, b) {
    case (.hello(let x), .hello(let y)): return x == y
    case (.empty, .empty): return true
    case (.status(let x), .status(let y)): return x == y
    case (.user(let x), .user(let y)): return x == y
    case (.login(let u1, let t1), .login(let u2, let t2)): return u1 == u2 && token(t1, t2)
    case (.users(let t1, let u1), .users(let t2, let u2)): return t1 == t2 && u1 == u2
    case (.updated(let u1, let c1), .updated(let u2, let c2)): return u1 == u2 && c1 == c2
    case (.tokenOwner(let u1, let e1), .tokenOwner(let u2, let e2)): return u1 == u2 && e1 == e2
    case (.count(let x), .count(let y)): return x == y
    case (.issuedToken(let x), .issuedToken(let y)): return token(x, y)
    case (.tokens(let x), .tokens(let y)): return x == y
    case (.events(let x), .events(let y)): return x == y
    case (.data, .data), (.accountState, .accountState): return replyBytes(a) == replyBytes(b)
    case (.linuxAccount(let x), .linuxAccount(let y)): return x == y
    default: return false
    }
}

/// Decodes a request payload (no length prefix).
func decodeRequest(_ payload: [UInt8]) -> DecodedRequest {
    payload.withUnsafeBytes { RequestMessage.decode(payload: $0) }
}

/// Splits one frame off `frame` and returns its payload.
func payload(ofFrame frame: [UInt8]) throws -> [UInt8] {
    var splitter = FrameSplitter()
    splitter.append(frame)
    guard let payload = try splitter.next() else { throw WireDecodeError("incomplete frame") }
    guard try splitter.next() == nil else { throw WireDecodeError("more than one frame") }
    return payload
}

/// A deterministic generator, so a failing random case can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The encoded body of a request or reply (data operations compare by their bytes).
func requestBytes(_ r: Request) -> [UInt8] {
    var w = WireWriter()
    r.encodeBody(into: &w)
    return w.bytes
}

func replyBytes(_ r: Reply) -> [UInt8] {
    var w = WireWriter()
    r.encodeBody(into: &w)
    return w.bytes
}
