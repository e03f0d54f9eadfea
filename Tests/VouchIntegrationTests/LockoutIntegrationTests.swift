import Foundation
import Testing
import VouchClient
import VouchProtocol
import VouchSecrets

func refusedStatus(_ body: () async throws(VouchClientError) -> Void) async -> Status? {
    do {
        try await body()
        return .ok
    } catch {
        if case .refused(let status) = error.kind { return status }
        return nil
    }
}

/// Lockout, account_status, unlock_user and the per-uid rate limit through the real daemon.
@Suite struct LockoutIntegrationTests {
    @Test func lockoutLocksSurvivesARestartAndAnAdminUnlocks() async throws {
        let daemon = try await TestDaemon(config: [
            "lockout_deny = 3", "lockout_unlock_time = 0", "login_failures_per_minute = 0",
        ])
        var client = try await daemon.client()
        _ = try await client.createUser(username: "bob", password: .text("correct horse 1"))
        #expect(try await client.accountStatus(username: "bob") == .active)
        for _ in 0..<3 {
            #expect(
                await refusedStatus { () async throws(VouchClientError) in
                    _ = try await client.login(username: "bob", password: .text("wrong horse"))
                } == .invalidCredentials)
        }
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "bob", password: .text("correct horse 1"))
            } == .locked)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                try await client.changePassword(
                    username: "bob", old: .text("correct horse 1"), new: .text("new horse battery"))
            } == .locked)
        #expect(try await client.accountStatus(username: "BOB") == .locked)
        // The failure that locked the account is followed by one `lockout` event (events are written in batches).
        var kinds: [String] = []
        for _ in 0..<200 {
            kinds = try await client.events(user: .username("bob")).map(\.event)
            if kinds.contains("lockout") { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(kinds.filter { $0 == "lockout" }.count == 1, "\(kinds)")
        if let lockout = kinds.firstIndex(of: "lockout") {
            #expect(kinds[..<lockout].filter { $0 == "failed_login" }.count == 3)
        }
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.accountStatus(username: "nobody")
            } == .notFound)
        #expect(daemon.logText().contains("account locked after failed logins"))
        await client.close()

        try await daemon.restart()
        client = try await daemon.client()
        #expect(try await client.accountStatus(username: "bob") == .locked)
        let show = try daemon.vouchctl(["user", "show", "bob"])
        #expect(show.stdout.contains("failed logins  3"), "\(show.stdout)")
        #expect(show.stdout.contains("locked         yes, until unlocked"), "\(show.stdout)")

        let unlock = try daemon.vouchctl(["user", "unlock", "bob"])
        #expect(unlock.status == 0, "\(unlock.stderr)")
        #expect(unlock.stdout == "Unlocked bob\n")
        #expect(try await client.accountStatus(username: "bob") == .active)
        let (user, _) = try await client.login(username: "bob", password: .text("correct horse 1"))
        #expect(user.failedLogins == 0 && user.lockedUntil == nil)
        #expect(try daemon.vouchctl(["user", "unlock", "nobody"]).status == 1)
        await client.close()
    }

    @Test func accountStatusIsOpenToAnyPeerAndUnlockIsNot() {
        #expect(Opcode.accountStatus.isOpenToAnyPeer)
        #expect(!Opcode.unlockUser.isOpenToAnyPeer)
    }

    @Test func accountStatusAndUnlockAsAnUnprivilegedPeer() async throws {
        guard runningAsRoot else { return }
        let daemon = try await TestDaemon(config: ["lockout_deny = 1", "login_failures_per_minute = 0"])
        let client = try await daemon.client()
        _ = try await client.createUser(username: "carol", password: .text("correct horse 1"))
        await client.close()
        // As uid 65534: a wrong password (allowed), then unlock (refused: not an admin).
        let login = try daemon.vouchctl(["login", "carol", "--password-stdin"], stdin: "wrong\n", asUID: 65534)
        #expect(login.status == 1)
        let unlock = try daemon.vouchctl(["user", "unlock", "carol"], asUID: 65534)
        #expect(unlock.status == 1)
        #expect(unlock.stderr.lowercased().contains("permission denied"), "\(unlock.stderr)")
        let again = try daemon.vouchctl(
            ["login", "carol", "--password-stdin"], stdin: "correct horse 1\n", asUID: 65534)
        #expect(again.status == 1)
        #expect(again.stderr.lowercased().contains("locked"), "\(again.stderr)")
    }

    @Test func failedLoginsPerUIDAreRateLimitedAcrossConnections() async throws {
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 3", "lockout_deny = 0"])
        let a = try await daemon.client()
        let b = try await daemon.client()
        _ = try await a.createUser(username: "dora", password: .text("correct horse 1"))
        for name in ["x1", "x2", "dora"] {
            #expect(
                await refusedStatus { () async throws(VouchClientError) in
                    _ = try await a.login(username: name, password: .text("wrong horse"))
                } == .invalidCredentials)
        }
        // The fourth failure's attempt is refused before hashing, even with the right password, on any connection.
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await b.login(username: "dora", password: .text("correct horse 1"))
            } == .rateLimited)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                try await a.changePassword(username: "dora", old: .text("correct horse 1"), new: .text("other horse 2"))
            } == .rateLimited)
        #expect(daemon.logText().contains("rate_limited"))
        // Other operations are not limited.
        try await b.ping()
        #expect(try await b.accountStatus(username: "dora") == .active)
        await a.close()
        await b.close()
    }
}

@Suite struct SecurityReloadTests {
    @Test func sighupAppliesNewLockoutAndRateLimitSettings() async throws {
        let daemon = try await TestDaemon(config: ["login_failures_per_minute = 0", "lockout_deny = 0"])
        let client = try await daemon.client()
        _ = try await client.createUser(username: "erin", password: .text("correct horse 1"))
        for _ in 0..<4 { _ = try? await client.login(username: "erin", password: .text("wrong horse")) }
        #expect(try await client.accountStatus(username: "erin") == .active)

        try daemon.writeConfig(["login_failures_per_minute = 2", "lockout_deny = 5", "max_connections = 7"])
        let pid = try #require(daemon.process?.processIdentifier)
        kill(pid, SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while !daemon.logText().contains("configuration reloaded"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(daemon.logText().contains("max_connections"), "a key needing a restart is reported")
        // The 5th failure within the window locks; the next attempt is already rate limited.
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "erin", password: .text("wrong horse"))
            } == .invalidCredentials)
        #expect(try await client.accountStatus(username: "erin") == .locked)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "erin", password: .text("wrong horse"))
            } == .locked)
        #expect(
            await refusedStatus { () async throws(VouchClientError) in
                _ = try await client.login(username: "erin", password: .text("wrong horse"))
            } == .rateLimited)
        await client.close()
    }
}
