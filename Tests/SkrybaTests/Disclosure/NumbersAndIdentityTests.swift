import Foundation
import Testing
import SkrybaSeal
@testable import SkrybaPipeline
@testable import SkrybaStore

extension DisclosureTests {
    @Suite struct NumbersAndIdentityTests {
        /// CallStore keeps the caller ID that arrived after the call was answered, and the line's number.
        @Test func aCallsNumbersAreStoredWhenItFinishes() throws {
            let fixture = try DisclosureFixture("callstore")
            let store = try CallStore(dataDirectory: fixture.dataDirectory, catalog: fixture.catalog, recipients: [fixture.recipient])
            store.lineNumbers = [1: "+48914245000"]
            var call = CallRecord(line: 1, direction: .incoming, startFrame: 0, startUTC: DisclosureTime.call)
            let started = try store.commit(call)
            #expect(try fixture.catalog.recording(started.id)?.callerNumber == nil)
            call.callerNumber = "601234567"
            store.finish(started, call: call, endFrame: 8000, durationMs: 1000, failure: nil, gaps: [])
            #expect(try fixture.catalog.recording(started.id)?.callerNumber == "601234567")
            #expect(try fixture.register.lineNumber(of: started.id) == "+48914245000")
            var search = RecordingSearch()
            search.callerNumber = "+48601234567"
            #expect(try fixture.register.search(search).map(\.recording.id) == [started.id])
        }

        struct Served {
            var status: Int32
            var stdout: String
            var stderr: String
        }

        func serve(_ fixture: DisclosureFixture, _ arguments: [String], environment: [String: String]) throws -> Served {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tool.product("skryba"))
            process.arguments = ["export-serve", "--data-dir", fixture.dataDirectory] + arguments
            process.environment = environment
            let out = Pipe(), err = Pipe()
            (process.standardOutput, process.standardError) = (out, err)
            try process.run()
            let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return Served(status: process.terminationStatus, stdout: output, stderr: errors)
        }

        /// The key comes from sshd (SSH_USER_AUTH), its comment and --allow-backup from its entry in
        /// authorized_keys (the ForceCommand setup of the image); a disagreeing or missing identity is refused.
        @Test func thePullingKeyIsWhatSSHDSaysAndItsEntryAllows() throws {
            let fixture = try DisclosureFixture("identity")
            _ = try fixture.record(start: DisclosureTime.call, callerNumber: "601234567")
            let key = try SSHServer.clientKey(fixture.directory, name: "it-backup")
            let fields = key.publicKey.split(separator: " ")
            let userAuth = "\(fixture.directory)/ssh-user-auth"
            try "publickey \(fields[0]) \(fields[1])\n".write(toFile: userAuth, atomically: true, encoding: .utf8)
            let authorizedKeys = "\(fixture.directory)/authorized_keys"
            try """
                # the export account's keys
                restrict,from="127.0.0.1",command="/usr/bin/skryba export-serve --allow-backup" \(key.publicKey)
                """.write(toFile: authorizedKeys, atomically: true, encoding: .utf8)

            let listed = try serve(fixture, ["--authorized-keys", authorizedKeys],
                                   environment: ["SSH_ORIGINAL_COMMAND": "list --backup", "SSH_USER_AUTH": userAuth])
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("backup export: every sealed recording kept"))
            let pulled = try serve(fixture, ["--authorized-keys", authorizedKeys],
                                   environment: ["SSH_ORIGINAL_COMMAND": "export --request RQ-2026-0042", "SSH_USER_AUTH": userAuth])
            #expect(pulled.status == 1)
            let refused = try #require(try fixture.entries(kind: .exportRefused).last?.decodedDetails)
            #expect(refused["key_fingerprint"] == key.fingerprint && refused["key_comment"] == "it-backup")

            let other = try serve(fixture, ["--key-fingerprint", "SHA256:someoneelse"],
                                  environment: ["SSH_ORIGINAL_COMMAND": "list --backup", "SSH_USER_AUTH": userAuth])
            #expect(other.status == 1)
            #expect(other.stderr == "skryba: the key that authenticated (\(key.fingerprint)) is not the one this authorized_keys entry names (SHA256:someoneelse)\n")
            let nobody = try serve(fixture, [], environment: ["SSH_ORIGINAL_COMMAND": "list --backup"])
            #expect(nobody.status == 1)
            #expect(nobody.stderr.contains("cannot tell which SSH key is pulling: set ExposeAuthInfo yes in sshd_config"))
            // Without --allow-backup in its entry, the same key may not pull the backup.
            try "restrict \(key.publicKey)\n".write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
            let plain = try serve(fixture, ["--authorized-keys", authorizedKeys],
                                  environment: ["SSH_ORIGINAL_COMMAND": "list --backup", "SSH_USER_AUTH": userAuth])
            #expect(plain.status == 1 && plain.stderr.contains("this key may not pull the backup export"))
        }
    }
}
