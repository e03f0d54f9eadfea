import Glibc
import Logging
import Testing

@testable import VouchServer

@Suite struct FileLimitTests {
    @Test func maxConnectionsIsFittedToTheOpenFileLimit() throws {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        try #require(getrlimit(resource, &limit) == 0)
        try #require(limit.rlim_max < 1 << 30, "no finite hard limit to test against")
        let logger = Logger(label: "test")
        // Fits: unchanged.
        #expect(FileLimit.fitConnections(8, logger: logger) == 8)
        // More than the hard limit allows: the soft limit goes up to the hard
        // one, and max_connections comes down to what fits.
        let wanted = Int(limit.rlim_max) + 1000
        #expect(FileLimit.fitConnections(wanted, logger: logger) == Int(limit.rlim_max) - FileLimit.overhead)
        var after = rlimit()
        _ = getrlimit(resource, &after)
        #expect(after.rlim_cur == limit.rlim_max)
    }
}
