import FoundationEssentials
import Testing
import VouchSecrets

@testable import VouchCore

/// The cache keeps argon2id hashes as fields; every stored string must come
/// back exactly as it went in.
@Suite struct PackedPasswordHashTests {
    @Test(arguments: KnownVectors.all)
    func everyKnownFormatComesBackExactly(text: String) {
        #expect(PackedPasswordHash(text).text == text)
    }

    @Test func argon2idOfTheUsualShapeIsPacked() throws {
        let made = try PasswordHasher(parameters: Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1))
            .hash(SecretBytes(utf8: "correct horse battery staple"))
        let packed = PackedPasswordHash(made)
        #expect(packed.isPacked)
        #expect(packed.text == made)
        #expect(PackedPasswordHash(KnownVectors.argon2cffiDefault).isPacked)
        #expect(PackedPasswordHash(KnownVectors.argon2cffiSmall).isPacked)
    }

    @Test(arguments: [
        KnownVectors.argon2iSmall,  // another variant
        KnownVectors.bcrypt2b, KnownVectors.yescrypt, KnownVectors.piccoloPBKDF2,
        // Non-canonical spellings of a valid hash: kept as written.
        "$argon2id$v=19$m=01024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$v=19$t=1,m=1024,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        "$argon2id$m=1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/Vw$zO+iq/bOxq8IWE10vUMV+duLTditWtRWtMyyPct8c+0",
        // A 32-byte salt and an 8-byte hash: other sizes.
        "$argon2id$v=19$m=1024,t=1,p=1$FK8cpBnvYAz5okMH8tD/VxSvHKQZ72AM+aJDB/LQ/1c$zO+iq/bOxq8",
        // Broken strings are kept too (verification refuses them later).
        "", "$argon2id$", "$argon2id$v=19$m=1024,t=1,p=1$!!!!$????", "not a hash",
    ])
    func anythingElseIsKeptAsText(text: String) {
        let packed = PackedPasswordHash(text)
        #expect(!packed.isPacked)
        #expect(packed.text == text)
    }

    @Test func usersCompareByTheHashTheyHold() {
        func user(_ hash: String) -> User {
            User(
                id: 1, uuid: UUID(), username: "bob", email: nil, passwordHash: hash, flags: .active, createdAt: 0,
                updatedAt: 0)
        }
        var a = user(KnownVectors.argon2cffiSmall)
        #expect(a.passwordHash == KnownVectors.argon2cffiSmall)
        a.passwordHash = KnownVectors.bcrypt2b
        #expect(a.passwordHash == KnownVectors.bcrypt2b)
        a.passwordHash = KnownVectors.argon2cffiDefault
        #expect(a.packedHash == PackedPasswordHash(KnownVectors.argon2cffiDefault))
        #expect(a.packedHash != PackedPasswordHash(KnownVectors.argon2cffiSmall))
    }
}

extension PackedPasswordHashTests {
    @Test(arguments: KnownVectors.all + ["", "$argon2id$v=19$m=1024,t=1,p=1$!!!!$????"])
    func packedFromBytesInPlaceEqualsPackedFromTheString(text: String) {
        var copy = text
        let fromBytes = copy.withUTF8 { PackedPasswordHash(utf8: $0) }
        #expect(fromBytes == PackedPasswordHash(text))
        #expect(fromBytes.text == text)
    }
}

extension PackedPasswordHashTests {
    @Test func neitherDescriptionShowsTheHash() {
        for text in [KnownVectors.argon2cffiSmall, KnownVectors.bcrypt2b] {
            let packed = PackedPasswordHash(text)
            for shown in [String(describing: packed), String(reflecting: packed), "\(packed)"] {
                #expect(shown == "<password hash>")
            }
        }
    }
}
