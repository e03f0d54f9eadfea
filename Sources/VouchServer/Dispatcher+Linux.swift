import Logging
import VouchCore
import VouchProtocol

extension Dispatcher {
    /// Linux logins, SSH keys and password aging (opcodes 0x60-0x64, admin):
    /// reads answered from memory, changes on the worker pool.
    func handleLinux(_ id: UInt32, _ op: Opcode, _ request: LinuxRequest, peer: PeerContext, sink: ResponseSink)
        -> Outcome
    {
        guard let logins = flows.logins else {
            return .failure(.unknownOpcode, "\(op) is not supported by this server")
        }
        let change: @Sendable () throws(AccountError) -> (User, LoginProfile)
        switch request {
        case .getLinuxAccount(let selector):
            // Memory only: answered on the event loop.
            return Self.answer { () throws(AccountError) -> Reply in
                let user = try flows.user(WireMapping.ref(selector))
                return .linuxAccount(WireMapping.linuxRecord(user, logins.profile(of: user), logins))
            }
        case .setLinuxAccount(let selector, let c):
            change = { () throws(AccountError) in
                try logins.setLogin(
                    WireMapping.ref(selector),
                    LoginService.Change(
                        login: c.login, realName: c.realName, home: c.home.map { $0.isEmpty ? nil : $0 },
                        shell: c.shell.map { $0.isEmpty ? nil : $0 }))
            }
        case .addSSHKey(let selector, let key):
            change = { () throws(AccountError) in try logins.addKey(WireMapping.ref(selector), key) }
        case .removeSSHKey(let selector, let key):
            change = { () throws(AccountError) in try logins.removeKey(WireMapping.ref(selector), key) }
        case .setPasswordAging(let selector, let maxAge, let expire):
            change = { () throws(AccountError) in
                try logins.setAging(WireMapping.ref(selector), maxAge: maxAge, mustChange: expire ? true : nil)
            }
        }
        let logger = self.logger
        return offload(id, op, sink, peer.source()) { () throws(AccountError) -> Reply in
            let (user, profile) = try change()
            logger.info(
                "\(op)",
                metadata: [
                    "event": "\(op)", "user": "\(user.username)", "user_id": "\(user.id)",
                    "peer_uid": "\(peer.credentials.uid)", "peer_pid": "\(peer.credentials.pid)",
                ])
            return .linuxAccount(WireMapping.linuxRecord(user, profile, logins))
        }
    }
}
