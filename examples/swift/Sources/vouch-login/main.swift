// vouch-login: logs a user in through vouchd, gets a session token and checks it.
//
//   printf '%s' "$password" | vouch-login alice
//
// The password comes from standard input (never the arguments: ps shows
// them to every user).  The socket is $VOUCH_SOCKET, else /run/vouch/vouchd.sock.
// Exit status: 0 logged in, 1 refused, 2 vouchd could not be asked.
import Glibc
import VouchClient

func fail(_ status: Int32, _ message: String) -> Never {
    let line = Array("vouch-login: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(status)
}

guard CommandLine.arguments.count == 2 else { fail(2, "usage: vouch-login USERNAME < password") }
let username = CommandLine.arguments[1]
var input: [UInt8] = []
while case let byte = getchar(), byte != EOF { input.append(UInt8(byte)) }
if input.last == UInt8(ascii: "\n") { input.removeLast() }
let password = SecretBytes(input)
input.withUnsafeMutableBytes { SecretBytes.wipe($0) }

do throws(VouchClientError) {
    let client = try await VouchClient.connect(timeout: .seconds(5))
    defer { Task { await client.close() } }
    let (user, issued) = try await client.login(username: username, password: password, wantToken: true)
    guard let issued else { fail(2, "no token issued") }
    let (owner, _) = try await client.verifyToken(issued.token)
    print("ok: \(user.username) (id \(user.id)), token verified for \(owner.username)")
    try await client.revokeToken(issued.token)
} catch {
    switch error.kind {
    case .refused(let status):
        // invalidCredentials, inactive, locked, rateLimited, ...: the daemon's answer.
        fail(1, "refused: \(status): \(error.message)")
    case .unreachable, .timeout, .connectionClosed, .protocolViolation:
        fail(2, error.message)
    }
}
