import Glibc
import NIOCore
import NIOPosix
import Synchronization
import VouchProtocol
import VouchSecrets

/// An async client for vouchd.  One connection; calls may be made
/// concurrently and are pipelined on it, answered in whatever order the
/// daemon finishes them.
///
/// The daemon closes idle connections (`idle_timeout`) and restarts drop
/// them: when the connection is found closed before a request is sent, the
/// client connects again, once, and sends it.  A request the daemon may have
/// received is never sent again: its call fails with `.connectionClosed`.
public final class VouchClient: Sendable {
    /// The socket vouchd listens on by default.
    public static let defaultSocketPath = "/run/vouch/vouchd.sock"

    /// `$VOUCH_SOCKET` when set and not empty, else `defaultSocketPath`.
    public static var environmentSocketPath: String {
        guard let value = getenv("VOUCH_SOCKET"), value.pointee != 0 else { return defaultSocketPath }
        return String(cString: value)
    }

    public let socketPath: String
    public let timeout: Duration
    private let maxReplyBytes: Int
    private let group: any EventLoopGroup
    private let state: Mutex<State>
    private let nextID = Atomic<UInt32>(1)

    private struct State {
        var connection: Connection?
        var closed = false
    }

    private init(
        socketPath: String, timeout: Duration, maxReplyBytes: Int, group: any EventLoopGroup, connection: Connection
    ) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.maxReplyBytes = maxReplyBytes
        self.group = group
        self.state = Mutex(State(connection: connection))
    }

    /// Connects to vouchd at `socketPath` (nil: `$VOUCH_SOCKET`, else
    /// `/run/vouch/vouchd.sock`).  `timeout` bounds the connection and every call.
    public static func connect(
        socketPath: String? = nil, timeout: Duration = .seconds(30),
        maxReplyBytes: Int = 16 * 1024 * 1024, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(VouchClientError) -> VouchClient {
        let path = socketPath ?? environmentSocketPath
        let connection = try await Connection.open(
            socketPath: path, timeout: timeout, maxReplyBytes: maxReplyBytes, group: group)
        return VouchClient(
            socketPath: path, timeout: timeout, maxReplyBytes: maxReplyBytes, group: group, connection: connection)
    }

    /// Closes the connection; later calls fail with `.connectionClosed`.
    public func close() async {
        let connection = state.withLock { state in
            state.closed = true
            return state.connection.take()
        }
        try? await connection?.channel.close()
    }

    /// Sends one request and returns the body of its `ok` response; any other status throws.
    public func send(_ request: Request) async throws(VouchClientError) -> Reply {
        let response = try await exchange(request)
        guard response.status == .ok, let reply = response.reply else {
            throw VouchClientError(.refused(response.status), response.message)
        }
        return reply
    }

    /// Sends one request and returns the raw response, whatever its status.
    public func exchange(_ request: Request) async throws(VouchClientError) -> ResponseMessage {
        var reconnected = false
        while true {
            let connection = try await usableConnection(reconnected: &reconnected)
            let id = takeID()
            var frameBytes = RequestMessage(id: id, request: request).encodeFrame()
            defer { if request.carriesSecret { frameBytes.withUnsafeMutableBytes { SecretBytes.wipe($0) } } }
            let sent = await connection.send(id: id, frame: frameBytes, timeout: timeout)
            switch sent {
            case .notSent(let reason):
                // The daemon closed the connection before the request reached it.
                drop(connection)
                if reconnected { throw VouchClientError(.connectionClosed, "cannot send to vouchd: \(reason)") }
                continue
            case .sent(let answer):
                let response: ResponseMessage
                do {
                    response = try await answer.get()
                } catch let error as VouchClientError {
                    if error.kind == .connectionClosed || error.kind == .protocolViolation { drop(connection) }
                    throw error
                } catch {
                    drop(connection)
                    throw VouchClientError(.connectionClosed, Self.reason(error))
                }
                guard response.opcode == request.opcode.rawValue else {
                    throw VouchClientError(.protocolViolation, "response to request \(id) has another opcode")
                }
                return response
            }
        }
    }

    /// Request ids run from 1 and skip 0, reserved for connection-level errors.
    private func takeID() -> UInt32 {
        while true {
            let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
            if id != RequestMessage.reservedID { return id }
        }
    }

    /// The current connection, or a new one when it was closed (counted in `reconnected`).
    private func usableConnection(reconnected: inout Bool) async throws(VouchClientError) -> Connection {
        let current = state.withLock { state -> Result<Connection?, VouchClientError> in
            if state.closed { return .failure(VouchClientError(.connectionClosed, "the client was closed")) }
            return .success(state.connection)
        }
        if let connection = try current.get(), connection.channel.isActive { return connection }
        if reconnected { throw VouchClientError(.connectionClosed, "the daemon closed the connection") }
        reconnected = true
        let fresh = try await Connection.open(
            socketPath: socketPath, timeout: timeout, maxReplyBytes: maxReplyBytes, group: group)
        // Another call may have reconnected meanwhile: keep one connection.
        let (winner, closed) = state.withLock { state -> (Connection, Bool) in
            if let other = state.connection, other.channel !== fresh.channel, other.channel.isActive {
                return (other, state.closed)
            }
            state.connection = fresh
            return (fresh, state.closed)
        }
        if winner.channel !== fresh.channel || closed { fresh.channel.close(promise: nil) }
        if closed { throw VouchClientError(.connectionClosed, "the client was closed") }
        return winner
    }

    private func drop(_ connection: Connection) {
        state.withLock { state in
            if state.connection?.channel === connection.channel { state.connection = nil }
        }
        connection.channel.close(promise: nil)
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)) }
        if let e = error as? VouchClientError { return e.message }
        return "\(error)"
    }
}
