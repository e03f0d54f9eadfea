import Foundation
import Testing
import VouchClient
import VouchProtocol

@Suite(.serialized) struct StorageFailureTests {
    /// The database on a small tmpfs filled to the brim: writes answer
    /// "storage unavailable" and change nothing, reads and logins keep
    /// working, and writes resume once there is space again.  Needs root
    /// (mount); skipped otherwise.
    @Test(.timeLimit(.minutes(2))) func fullDiskRefusesWritesUntilSpaceReturns() async throws {
        guard runningAsRoot else {
            print("skipped: mounting a tmpfs needs root")
            return
        }
        let daemon = try await TestDaemon(start: false)
        let mountPoint = daemon.directory + "/mnt"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipped: cannot mount a tmpfs: \(mounted.stderr)")
            return
        }
        defer {
            daemon.stop()
            _ = try? runProcess("/bin/umount", ["-l", mountPoint])
        }
        let database = mountPoint + "/vouch.db"
        try await daemon.start(arguments: ["--config", daemon.configPath, "--log-to", "stderr", "--database", database])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await client.createUser(username: "bob", password: .text("horse battery 1"))

        // Fill the file system.
        let filler = mountPoint + "/filler"
        _ = try runProcess("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=16k"])

        // Writes fail (the WAL may have a little room left: keep writing until it runs out).
        var refused: VouchClientError?
        var created: [String] = []
        var failed: [String] = []
        for i in 0..<200 where refused == nil {
            let name = "full\(i)"
            refused = await refusalError { () async throws(VouchClientError) in
                try await client.createUser(
                    username: name, email: "\(name)@example.com", password: .text("secret of \(i)"))
            }
            if refused == nil { created.append(name) } else { failed.append(name) }
        }
        let error = try #require(refused, "no write failed on a full disk")
        #expect(error.status == .storageUnavailable)
        #expect(error.message.contains("disk holding the database is full"), "\(error.message)")
        let setFailed = await refusalError { () async throws(VouchClientError) in
            try await client.setPassword(.username("bob"), password: .text("horse battery 2"))
        }
        #expect(setFailed?.status == .storageUnavailable)

        // Reads and logins are served from memory; nothing half-written is visible.
        #expect(try await client.user(.username("bob")).username == "bob")
        _ = try await client.login(username: "bob", password: .text("horse battery 1"))
        for name in failed {
            let missing = await refusalError { () async throws(VouchClientError) in
                try await client.user(.username(name))
            }
            #expect(missing?.status == .notFound, "\(name) reached the cache")
        }

        // Space returns: writes work again, without a restart.
        try FileManager.default.removeItem(atPath: filler)
        _ = try await client.createUser(username: "carol", password: .text("staple horse 1"))
        try await client.setPassword(.username("bob"), password: .text("horse battery 3"))
        _ = try await client.login(username: "bob", password: .text("horse battery 3"))

        // And all of it is on disk.
        daemon.stop()
        #expect(try integrityCheck(database) == "ok")
        try await daemon.start(arguments: ["--config", daemon.configPath, "--log-to", "stderr", "--database", database])
        let again = try await daemon.client()
        defer { Task { await again.close() } }
        _ = try await again.login(username: "bob", password: .text("horse battery 3"))
        _ = try await again.login(username: "carol", password: .text("staple horse 1"))
        for (i, name) in created.enumerated() {
            _ = try await again.login(username: name, password: .text("secret of \(i)"))
        }
        for name in failed {
            let missing = await refusalError { () async throws(VouchClientError) in
                try await again.user(.username(name))
            }
            #expect(missing?.status == .notFound)
        }
    }

    /// Another process holds the write lock: a write waits the busy timeout,
    /// then answers "storage unavailable" saying the database is locked;
    /// logins still work; once the lock is released, writes work.
    @Test(.timeLimit(.minutes(1))) func lockedDatabaseIsABoundedWait() async throws {
        let daemon = try await TestDaemon(config: ["database_busy_timeout = 1"])
        let client = try await daemon.client()
        defer { Task { await client.close() } }
        _ = try await client.createUser(username: "bob", password: .text("horse battery 1"))

        let holder = Subprocess()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = [
            "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
            db.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.readline()
            db.execute("ROLLBACK")
            """,
            daemon.databasePath,
        ]
        let input = Pipe()
        let output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        defer {
            if holder.isRunning { holder.terminate() }
        }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line.contains("locked"))

        let started = ContinuousClock.now
        let error = await refusalError { () async throws(VouchClientError) in
            try await client.createUser(username: "carol", password: .text("staple horse 1"))
        }
        let waited = ContinuousClock.now - started
        #expect(error?.status == .storageUnavailable)
        #expect(error?.message.contains("database is locked") == true, "\(error?.message ?? "")")
        #expect(waited >= .milliseconds(900) && waited < .seconds(15), "waited \(waited)")
        _ = try await client.login(username: "bob", password: .text("horse battery 1"))
        let missing = await refusalError { () async throws(VouchClientError) in
            try await client.user(.username("carol"))
        }
        #expect(missing?.status == .notFound)

        input.fileHandleForWriting.write(Data("\n".utf8))
        holder.waitUntilExit()
        _ = try await client.createUser(username: "carol", password: .text("staple horse 1"))
        _ = try await client.login(username: "carol", password: .text("staple horse 1"))
    }
}
