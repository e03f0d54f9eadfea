import Foundation
import Testing

@testable import VouchCore

/// The JSON document hooks read and the events table keeps: Foundation's
/// encoder, so any string a user or peer can put in it stays one JSON string.
@Suite struct EventJSONTests {
    static let awkward =
        "a\"b\\c/d\n\r\t" + String((0..<0x20).map { Character(Unicode.Scalar($0)!) }) + "\u{7F}\u{2028}\u{2029}é😀"

    func parse(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func controlCharactersAndLineSeparatorsSurviveAsOneString() throws {
        let event = AccountEvent(
            kind: .failedLogin, time: 1, user: nil, username: Self.awkward,
            caller: Caller(uid: 1000, pid: 42, service: Self.awkward, remoteHost: "", tty: ""),
            reason: Self.awkward)
        let json = event.json(includeToken: false)
        #expect(!json.unicodeScalars.contains { $0.value < 0x20 }, "no raw control character")
        #expect(!json.contains("\n"), "one line")
        let doc = try parse(json)
        #expect(doc["username"] as? String == Self.awkward)
        #expect(doc["reason"] as? String == Self.awkward)
        #expect((doc["peer"] as? [String: Any])?["service"] as? String == Self.awkward)
        #expect(doc["user"] is NSNull)
        #expect((doc["peer"] as? [String: Any])?["rhost"] == nil, "empty peer fields are left out")
    }

    @Test func aUserWithoutEmailHasANullEmailAndTheTokenGoesOnlyToHooks() throws {
        let user = User(
            id: 7, uuid: UUID(), username: "alice", email: nil, passwordHash: "x", flags: [.active],
            createdAt: 1, updatedAt: 1)
        let event = AccountEvent(
            kind: .forgotPassword, time: 5, user: user, caller: Caller(uid: 0, pid: 1), token: "secret-token",
            tokenExpiresAt: 99)
        let hook = try parse(event.json(includeToken: true))
        let user0 = try #require(hook["user"] as? [String: Any])
        #expect(user0["email"] is NSNull)
        #expect(user0["id"] as? Int == 7 && user0["active"] as? Bool == true)
        #expect(hook["token"] as? String == "secret-token" && hook["token_expires_ms"] as? Int == 99)
        let stored = event.json(includeToken: false)
        #expect(!stored.contains("secret-token") && !stored.contains("token_expires_ms"))
    }
}
