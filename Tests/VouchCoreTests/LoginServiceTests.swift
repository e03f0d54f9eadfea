import Foundation
import Testing
import VouchSecrets

@testable import VouchCore

/// Linux logins and password aging over a real store, with the host's
/// account files replaced by files in a temporary directory.
struct LoginFixture {
    let base: ServiceFixture
    let logins: LoginService
    let flows: AccountFlows

    init(
        base: ServiceFixture? = nil, settings: LoginSettings = LoginSettings(),
        passwd: String = "root:x:0:0::/root:/bin/sh\n",
        group: String = "root:x:0:\n", subuid: String = ""
    ) throws {
        let base = try base ?? ServiceFixture()
        self.base = base
        let dir = base.dir.path
        try passwd.write(toFile: dir + "/passwd", atomically: true, encoding: .utf8)
        try group.write(toFile: dir + "/group", atomically: true, encoding: .utf8)
        try subuid.write(toFile: dir + "/subuid", atomically: true, encoding: .utf8)
        try "/bin/sh\n/bin/bash\n".write(toFile: dir + "/shells", atomically: true, encoding: .utf8)
        var host = HostAccounts()
        host.passwdPath = dir + "/passwd"
        host.groupPath = dir + "/group"
        host.shellsPath = dir + "/shells"
        host.subordinatePaths = [dir + "/subuid"]
        host.askNSS = false
        var settings = settings
        settings.defaultShell = "/bin/sh"
        logins = LoginService(
            accounts: base.service, store: base.store, settings: settings, host: host, clock: base.clock,
            logger: quietLogger)
        try logins.load()
        flows = AccountFlows(
            accounts: base.service,
            tokens: TokenService(store: base.store, settings: TokenSettings(), clock: base.clock, logger: quietLogger),
            events: EventRecorder(
                store: base.store, hooks: HookRunner(directory: nil, timeoutMillis: 1000, logger: quietLogger),
                hookConcurrency: 1, logger: quietLogger), clock: base.clock,
            logger: quietLogger, logins: logins)
    }

    @discardableResult
    func user(_ name: String, login: Bool = true) throws -> User {
        let user = try base.service.createUser(
            username: name, email: nil, password: SecretBytes(utf8: "correct horse 1"), flags: .active)
        if login { _ = try logins.setLogin(.id(user.id), .init(login: true)) }
        return user
    }
}

@Suite struct LoginServiceTests {
    @Test func uidsComeFromTheRangeSkippingHostIdsAndSubordinateRanges() throws {
        var settings = LoginSettings()
        settings.uidRange = 70000...70010
        let f = try LoginFixture(
            settings: settings, passwd: "root:x:0:0::/root:/bin/sh\nold:x:70000:70000::/:/bin/sh\n",
            group: "root:x:0:\nstaff:x:70001:\n", subuid: "someone:70002:3\n")
        let alice = try f.user("alice")
        #expect(f.logins.profile(of: alice).uid == 70005)
        #expect(f.logins.loginUser(uid: 70005)?.0.username == "alice")
    }

    @Test func aDeletedUsersUidIsNeverGivenAgain() throws {
        let f = try LoginFixture()
        let alice = try f.user("alice")
        let uid = try #require(f.logins.profile(of: alice).uid)
        _ = try f.flows.deleteUser(.id(alice.id), caller: Caller(uid: 0, pid: 1))
        #expect(f.logins.loginUser(uid: uid) == nil)
        #expect(f.logins.loginUser(named: "alice") == nil)
        // After a restart too: the uid is kept in login_uids.
        let g = try LoginFixture(base: try f.base.reopened())
        let bob = try g.user("bob")
        #expect(g.logins.profile(of: bob).uid == uid + 1)
    }

    @Test func turningLoginOffHidesTheUserAndKeepsTheUid() throws {
        let f = try LoginFixture()
        let alice = try f.user("alice")
        let uid = f.logins.profile(of: alice).uid
        _ = try f.logins.setLogin(.id(alice.id), .init(login: false))
        #expect(f.logins.loginUser(named: "alice") == nil)
        #expect(f.logins.loginUsers().isEmpty)
        _ = try f.logins.setLogin(.id(alice.id), .init(login: true))
        #expect(f.logins.loginUser(named: "alice")?.1.uid == uid)
    }

    @Test(arguments: ["Alice", "9lives", "a.b", "a+b", String(repeating: "a", count: 33)])
    func loginNamesFollowThePortableRule(name: String) throws {
        let f = try LoginFixture()
        let user = try f.user(name, login: false)
        expectCode(.invalidInput) { _ = try f.logins.setLogin(.id(user.id), .init(login: true)) }
        #expect(f.logins.profile(of: user).uid == nil)
    }

    @Test func aLoginUserMayNotShadowTheHostsNames() throws {
        let f = try LoginFixture(group: "root:x:0:\nadm:x:4:\n")
        for name in ["root", "adm"] {
            let user = try f.user(name, login: false)
            expectCode(.invalidInput) { _ = try f.logins.setLogin(.id(user.id), .init(login: true)) }
        }
    }

    @Test(arguments: [
        ("uid_range = 999-2000", "must lie within 1000-2147483646"), ("uid_range = 70000-65534x", "is not a range"),
        ("uid_range = 60000-70000", "leave out 65534 and 65535"), ("uid_range = 9-8", "the first id is above the last"),
        ("login_home = /home/fixed", "must contain %u"), ("login_home = home/%u", "absolute path"),
    ])
    func badLoginKeysAreRefused(line: String, problem: String) {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(line, fileName: "vouchd.conf") }
        do {
            _ = try ConfigLoader.parse(line, fileName: "vouchd.conf")
        } catch {
            #expect(error.description.contains(problem), "\(error.description)")
        }
    }

    @Test func shellsMustBeListedAndExecutable() throws {
        let f = try LoginFixture()
        let alice = try f.user("alice")
        expectCode(.invalidInput) { _ = try f.logins.setLogin(.id(alice.id), .init(shell: .some("/bin/zsh-nowhere"))) }
        let (_, p) = try f.logins.setLogin(.id(alice.id), .init(realName: "Alice L", shell: .some("/bin/bash")))
        #expect(p.shell == "/bin/bash")
        #expect(f.logins.settings.home(of: p, username: "alice") == "/home/alice")
    }

    @Test func keysAreAddedOnceRemovedByBlobAndSurviveARestart() throws {
        let f = try LoginFixture()
        let alice = try f.user("alice")
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@host"
        _ = try f.logins.addKey(.id(alice.id), key)
        expectCode(.invalidInput) { _ = try f.logins.addKey(.id(alice.id), key + "-again") }
        expectCode(.invalidInput) { _ = try f.logins.addKey(.id(alice.id), "not a key") }
        expectCode(.invalidInput) { _ = try f.logins.addKey(.id(alice.id), key + "\nssh-rsa AAAA") }
        let g = try LoginFixture(base: try f.base.reopened())
        #expect(g.logins.profile(of: alice).sshKeys == [key])
        _ = try g.logins.removeKey(
            .id(alice.id), "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
        #expect(g.logins.profile(of: alice).sshKeys.isEmpty)
        expectCode(.notFound) { _ = try g.logins.removeKey(.id(alice.id), key) }
    }

    @Test func anExpiredPasswordIsRefusedUntilItIsChanged() throws {
        let f = try LoginFixture()
        let alice = try f.user("alice")
        let caller = Caller(uid: 0, pid: 1)
        let right = SecretBytes(utf8: "correct horse 1")
        _ = try f.logins.setAging(.id(alice.id), maxAge: nil, mustChange: true)
        expectCode(.passwordExpired) {
            _ = try f.flows.login(username: "alice", password: right, wantToken: true, caller: caller)
        }
        // A wrong password is still just wrong.
        expectCode(.invalidCredentials) {
            _ = try f.flows.login(
                username: "alice", password: SecretBytes(utf8: "wrong horse 1"), wantToken: false, caller: caller)
        }
        _ = try f.flows.changePassword(
            username: "alice", old: right, new: SecretBytes(utf8: "new horse 22"), caller: caller)
        let p = f.logins.profile(of: alice)
        #expect(!p.mustChangePassword)
        #expect(p.passwordChangedAt == f.base.clock.nowMillis())
        _ = try f.flows.login(
            username: "alice", password: SecretBytes(utf8: "new horse 22"), wantToken: false, caller: caller)
    }

    @Test func passwordsExpireAfterTheirMaximumAge() throws {
        var settings = LoginSettings()
        settings.passwordMaxAge = 10 * 86400
        let f = try LoginFixture(settings: settings)
        let alice = try f.user("alice")
        let bob = try f.user("bob", login: false)
        #expect(f.logins.passwordAge(of: alice) == .current)
        f.base.clock.advance(10 * 86_400_000)
        #expect(f.logins.passwordAge(of: alice) == .expired)
        #expect(f.logins.passwordAge(of: bob) == .expired)
        // A per-user override: never.
        _ = try f.logins.setAging(.id(bob.id), maxAge: .some(0), mustChange: nil)
        #expect(f.logins.passwordAge(of: bob) == .current)
        // Back to the default.
        _ = try f.logins.setAging(.id(bob.id), maxAge: .some(nil), mustChange: nil)
        #expect(f.logins.passwordAge(of: bob) == .expired)
    }
}
