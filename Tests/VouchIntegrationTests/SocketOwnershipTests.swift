import Foundation
import Testing
import VouchClient
import VouchProtocol

/// Issue 11: a second vouchd given the socket path of a running one (another
/// database, so the lock file did not stop it) unlinked the live socket,
/// bound its own, and removed the file on exit: the first daemon kept running
/// but nobody could reach it.
@Suite struct SocketOwnershipTests {
    /// Runs a second vouchd on `daemon`'s socket with a database of its own.
    func secondVouchd(_ daemon: TestDaemon, timeout: Double = 20) throws -> ProcessResult {
        try runProcess(
            Products.vouchd,
            [
                "--config", daemon.configPath, "--socket", daemon.socketPath, "--database",
                daemon.directory + "/other.db", "--log-to", "stderr",
            ], timeout: timeout)
    }

    @Test func aSecondDaemonRefusesALiveSocketAndTheFirstStaysReachable() async throws {
        let daemon = try await TestDaemon()
        let before = try #require(inode(daemon.socketPath))
        let second = try secondVouchd(daemon)
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains(daemon.socketPath), "\(second.stderr)")
        #expect(second.stderr.contains("another daemon is answering"), "\(second.stderr)")
        // The second never touched its database, and the first's socket is the same file.
        #expect(!FileManager.default.fileExists(atPath: daemon.directory + "/other.db"))
        #expect(inode(daemon.socketPath) == before)
        let status = try daemon.vouchctl(["status"])
        #expect(status.status == 0, "\(status.stderr)")
    }

    @Test func aStaleSocketFileIsReplaced() async throws {
        let daemon = try await TestDaemon(start: false)
        // A socket file nobody listens on, as a daemon killed with SIGKILL leaves.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(daemon.socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        try await daemon.start()
        #expect(try daemon.vouchctl(["status"]).status == 0)
    }

    @Test func onExitADaemonRemovesTheSocketOnlyIfItIsStillItsOwn() async throws {
        let first = try await TestDaemon()
        // Someone removes the first daemon's socket file and a second daemon binds the path.
        unlink(first.socketPath)
        let second = Subprocess()
        second.executableURL = URL(fileURLWithPath: Products.vouchd)
        second.arguments = [
            "--config", first.configPath, "--socket", first.socketPath, "--database", first.directory + "/other.db",
            "--log-to", "stderr",
        ]
        second.standardError = FileHandle.nullDevice
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        defer {
            if second.isRunning {
                second.terminate()
                second.waitUntilExit()
            }
        }
        var answered = false
        for _ in 0..<500 where !answered {
            if let client = try? await VouchClient.connect(socketPath: first.socketPath, timeout: .seconds(2)) {
                answered = (try? await client.ping()) != nil
                await client.close()
            }
            if !answered { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(answered, "the second daemon did not answer")
        let secondInode = try #require(inode(first.socketPath))
        // The first stops: the file is the second's, so it stays and still answers.
        first.stop()
        #expect(inode(first.socketPath) == secondInode)
        let client = try await VouchClient.connect(socketPath: first.socketPath, timeout: .seconds(5))
        try await client.ping()
        await client.close()
        // The second stops: its own file goes.
        second.terminate()
        second.waitUntilExit()
        #expect(!FileManager.default.fileExists(atPath: first.socketPath))
    }

    func inode(_ path: String) -> UInt64? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }
}
