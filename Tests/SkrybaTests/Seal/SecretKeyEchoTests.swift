import Foundation
import Testing
@testable import SkrybaSeal
import SkrybaConfig
import SkrybaPipeline
import SkrybaSystem

/// Issue 8 item 12: a secret key pasted where a recipient belongs is never printed, not even in
/// part; the message says what it is, that it is exposed, and how to make a new pair.
@Suite struct SecretKeyEchoTests {
    static let secret = AgeIdentity().encoded

    /// Any eight characters of the key's data part in `text` count as an echo.
    static func echoes(_ text: String) -> Bool {
        let data = Array(secret.dropFirst("AGE-SECRET-KEY-1".count))
        let haystack = text.uppercased()
        return stride(from: 0, through: data.count - 8, by: 1).contains { haystack.contains(String(data[$0..<$0 + 8])) }
    }

    static let advice = "this is an age secret key (AGE-SECRET-KEY-1…), not a recipient, so it is not shown here; it must be treated as exposed: "
        + "make a new pair with 'age-keygen -o org.key' on IT's workstation, give the appliance only the public key "
        + "'age-keygen -y org.key' prints (age1…), and keep the new key file offline"

    @Test func theRecipientParserNamesItWithoutShowingIt() {
        for text in [Self.secret, Self.secret.lowercased(), "  \(Self.secret)  ", String(Self.secret.dropLast(3)), "AGE-SECRET-KEY-1QQQ"] {
            let error = #expect(throws: AgeKeyError.self) { try AgeRecipient(parsing: text) }
            #expect(error == .secretKeyGivenAsRecipient)
            #expect(error?.description == Self.advice)
            #expect(!Self.echoes(error?.description ?? ""))
        }
    }

    @Test func noConfigurationMessageShowsIt() throws {
        let fixture = try ConfigFixture("secretkey")
        let announcement = try fixture.wav("announcement.wav")
        let valid = ConfigTests.ConfigurationTests.specExample(recipient: AgeIdentity().recipient.description, announcement: announcement)
        let recipientLine = valid.split(separator: "\n", omittingEmptySubsequences: false)[1]
        let variants = [
            "recipients = [\"\(Self.secret)\"]",  // quoted, where a recipient belongs
            "recipients = \"\(Self.secret)\"",  // a string, not an array
            "recipients = [\(Self.secret)]",  // without quotes
            "recipients = ['\(Self.secret)']",
            "\(recipientLine)\n\(Self.secret)",  // pasted on a line of its own
            "\(recipientLine) \(Self.secret)",
            "\(recipientLine)\n\(Self.secret) = 1",
        ]
        for variant in variants {
            let text = valid.replacingOccurrences(of: String(recipientLine), with: variant)
            let problems = fixture.problems(text)
            #expect(!problems.isEmpty, "\(variant)")
            #expect(!problems.contains(where: Self.echoes), "\(variant): \(problems)")
            #expect(problems.contains { $0.contains("secret key") && $0.contains("exposed") && $0.contains("age-keygen") }, "\(variant): \(problems)")
        }
        // The quoted case gets the whole explanation at its key and line.
        #expect(fixture.problems(valid.replacingOccurrences(of: String(recipientLine), with: variants[0]))
                == ["DIR/skryba.toml:2: recipients[1]: \(Self.advice)"])
    }

    @Test func redactionKeepsProseAndRemovesKeys() {
        #expect(AgeIdentity.redactingSecretKeys(in: "an age identity starts with AGE-SECRET-KEY-1") == "an age identity starts with AGE-SECRET-KEY-1")
        #expect(AgeIdentity.redactingSecretKeys(in: "found '\(Self.secret)' here") == "found '\(AgeIdentity.redactedSecretKey)' here")
        #expect(AgeIdentity.redactingSecretKeys(in: AgeIdentity.redactedSecretKey) == AgeIdentity.redactedSecretKey)
    }

    @Test func theCommandLineToolsDoNotShowIt() throws {
        let directory = try makeTemporaryDirectory(prefix: "skryba-secret-cli")
        let result = try Tool.run(Tool.product("skryba-tools"), ["to-age", "--identity", "\(directory)/k", "--recipient", Self.secret,
                                                                 "\(directory)/in.skryba", "-o", "\(directory)/out.age"])
        #expect(result.status != 0)
        #expect(!Self.echoes(result.output), "\(result.output)")
        #expect(result.output.contains(Self.advice), "\(result.output)")
    }
}
