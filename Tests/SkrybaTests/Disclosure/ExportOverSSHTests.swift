import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SkrybaExport
import SkrybaPipeline
@testable import SkrybaStore

extension DisclosureTests {
    /// Exports over a real sshd with the export account's forced command and the real ssh client
    /// (issue 11 items 3 and 4). Serialized: each test runs its own sshd, and they share the account.
    @Suite(.serialized) struct ExportOverSSHTests {
        let skryba = Tool.product("skryba")
        let tools = Tool.product("skryba-tools")

        struct Setup {
            let fixture: DisclosureFixture
            let server: SSHServer
            let key: (path: String, publicKey: String, fingerprint: String)
            let stranger: (path: String, publicKey: String, fingerprint: String)
            let elsewhere: (path: String, publicKey: String, fingerprint: String)
            var directory: String { fixture.directory }
        }

        /// Three keys: one authorized from anywhere, one authorized only from 10.9.9.9, one not authorized.
        func setUp(_ name: String, _ prepare: (DisclosureFixture) throws -> Void) throws -> Setup {
            let fixture = try DisclosureFixture(name)
            try prepare(fixture)
            let key = try SSHServer.clientKey(fixture.directory, name: "it-workstation")
            let stranger = try SSHServer.clientKey(fixture.directory, name: "stranger")
            let elsewhere = try SSHServer.clientKey(fixture.directory, name: "other-room")
            let command = "\(skryba) export-serve --data-dir \(fixture.dataDirectory) --key-comment it-workstation"
            let server = try SSHServer(directory: fixture.directory, authorizedKeys: [
                "restrict,command=\"\(command)\" \(key.publicKey)",
                "restrict,from=\"10.9.9.9\",command=\"\(command)\" \(elsewhere.publicKey)",
            ])
            // The export account owns the data directory here, as the skryba user does on the appliance.
            #expect(try Tool.run("chown", ["-R", SSHServer.account, fixture.dataDirectory]).status == 0)
            return Setup(fixture: fixture, server: server, key: key, stranger: stranger, elsewhere: elsewhere)
        }

        func granted(_ fixture: DisclosureFixture, _ ids: [RecordingID], includeRestricted: Bool = false) throws -> String {
            let reference = try fixture.callerRequest(ids)
            _ = try fixture.register.decide(reference, grant: true, by: "Burmistrz", reason: "art. 15 RODO", includeRestricted: includeRestricted,
                                            at: utc("2026-03-04T08:00:00.000Z"))
            return reference
        }

        @Test func aGrantedRequestsBundleIsPulledVerifiedAndDecrypted() throws {
            var ids: [RecordingID] = [], reference = ""
            let setup = try setUp("granted") { fixture in
                ids = [try fixture.record(start: DisclosureTime.call, callerNumber: "601234567", speech: 1),
                       try fixture.record(start: DisclosureTime.call.addingTimeInterval(600), callerNumber: "601234567", speech: 0)]
                _ = try fixture.record(start: DisclosureTime.call.addingTimeInterval(900), callerNumber: "500000000")
                reference = try granted(fixture, ids)
            }
            let bundle = "\(setup.directory)/bundle.tar"
            let listed = try setup.server.ssh(key: setup.key.path, "list --request \(reference)", output: "\(setup.directory)/list.txt")
            #expect(listed.status == 0, "\(listed.stderr)")
            let listing = String(decoding: listed.stdout, as: UTF8.self)
            #expect(listing.contains("request \(reference) (listening), granted by Burmistrz on 2026-03-04 09:00"))
            #expect(listing.contains("recordings/\(ids[0]).skryba") && listing.contains("recordings/\(ids[1]).skryba"))

            let pulled = try setup.server.ssh(key: setup.key.path, "export --request \(reference)", output: bundle)
            #expect(pulled.status == 0, "\(pulled.stderr)")
            // The sealed files as stored, byte for byte.
            var stored: [String: [UInt8]] = [:]
            try BundleVerifier.forEachRecording(bundle) { name, bytes in stored[name] = bytes }
            for id in ids {
                let path = "\(setup.fixture.dataDirectory)/\(try #require(try setup.fixture.catalog.recording(id)?.filePath))"
                #expect(stored[BundleManifest.memberName(id)] == [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            }
            #expect(stored.count == 2)

            let verified = try Tool.run(tools, ["verify", "--device-key", setup.fixture.key.fingerprint, bundle])
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.contains("OK: signed by the pinned device key \(setup.fixture.key.fingerprint); every file's SHA-256 matches the manifest"))
            #expect(verified.output.contains("pulled by key \(setup.key.fingerprint) (it-workstation) from 127.0.0.1"))
            // By the full key too; another key is refused.
            #expect(try Tool.run(tools, ["verify", "--device-key", setup.fixture.key.publicKeyHex, bundle]).status == 0)
            let wrongPin = try Tool.run(tools, ["verify", "--device-key", "0123456789abcdef", bundle])
            #expect(wrongPin.status == 1)
            #expect(wrongPin.output.contains("FAILED: the bundle is signed by device key \(setup.fixture.key.fingerprint), not by the pinned 0123456789abcdef"))

            let out = "\(setup.directory)/out"
            let decrypted = try Tool.run(tools, ["decrypt", "--identity", setup.fixture.identityFile, bundle, "-o", out])
            #expect(decrypted.status == 0, "\(decrypted.output)")
            for (id, speech) in zip(ids, [1, 0]) {
                let samples = try Tool.opusdec("\(out)/\(id).opus")
                #expect(samples.count == ALSAFixture.shared.speech[speech].count)
                #expect(Signal.bestCorrelation(Array(samples.prefix(16000)), Array(ALSAFixture.shared.speech[speech].prefix(16000))).correlation > 0.9)
            }
            let index = try String(contentsOfFile: "\(out)/index.txt", encoding: .utf8)
            #expect(index.contains("file          start                 line  direction  caller     called        duration"))
            #expect(index.contains("\(ids[0]).opus  2026-03-02 10:14 CET  1     incoming   601234567  +48914245000"))

            // The register and the audit log know who pulled what.
            let completed = try #require(try setup.fixture.entries(kind: .exportCompleted).first?.decodedDetails)
            #expect(completed["key_fingerprint"] == setup.key.fingerprint && completed["key_comment"] == "it-workstation")
            let manifestSHA = try BundleVerifier.verify(bundle, pinned: setup.fixture.key.fingerprint).manifestSHA256
            #expect(completed["manifest_sha256"] == manifestSHA)
            #expect(completed["bytes"] == String(try FileManager.default.attributesOfItem(atPath: bundle)[.size] as? Int ?? -1))

            // IT's listening record goes back into the register, once.
            let signingKey = "\(setup.directory)/listener.key"
            #expect(try Tool.run("openssl", ["genpkey", "-algorithm", "ed25519", "-out", signingKey]).status == 0)
            chmod(signingKey, 0o600)
            let record = "\(setup.directory)/listening.json"
            let listened = try Tool.run(tools, ["listen", bundle, "--device-key", setup.fixture.key.fingerprint, "--listener", "Jan Kowalski",
                                                "--present", "IOD Anna Nowak", "--present", "Kierownik WSO", "--started", "2026-03-05 10:00",
                                                "--ended", "2026-03-05 10:20", "--signing-key", signingKey, "-o", record])
            #expect(listened.status == 0, "\(listened.output)")
            let imported = try Tool.run(skryba, ["requests", "listened", "--data-dir", setup.fixture.dataDirectory, "--record", record])
            #expect(imported.status == 0, "\(imported.output)")
            let listening = try #require(try setup.fixture.register.listenings(of: reference).first)
            #expect(listening.listenedBy == "Jan Kowalski" && listening.present == ["IOD Anna Nowak", "Kierownik WSO"])
            #expect(listening.startedUTC == utc("2026-03-05T09:00:00.000Z") && listening.recordings == ids)
            let again = try Tool.run(skryba, ["requests", "listened", "--data-dir", setup.fixture.dataDirectory, "--record", record])
            #expect(again.status == 1 && again.output.contains("was already imported"))
            // A record altered after signing is refused.
            var text = try String(contentsOfFile: record, encoding: .utf8)
            text = text.replacingOccurrences(of: "Jan Kowalski", with: "Jan Kowalsky")
            try text.write(toFile: record, atomically: true, encoding: .utf8)
            let forged = try Tool.run(skryba, ["requests", "listened", "--data-dir", setup.fixture.dataDirectory, "--record", record])
            #expect(forged.output.contains("the listening record's signature does not verify: it was altered after it was signed"))
        }

        @Test func refusedOrUndecidedRequestsOtherCommandsAndWrongKeysGetNothing() throws {
            var refused = "", pending = ""
            let setup = try setUp("refused") { fixture in
                let id = try fixture.record(start: DisclosureTime.call, callerNumber: nil)
                refused = try fixture.callerRequest([id])
                _ = try fixture.register.decide(refused, grant: false, by: "Burmistrz", reason: "numer niezidentyfikowany", at: utc("2026-03-04T08:00:00.000Z"))
                pending = try fixture.callerRequest([id])
            }
            let output = "\(setup.directory)/out.tar"
            let refusedExport = try setup.server.ssh(key: setup.key.path, "export --request \(refused)", output: output)
            #expect(refusedExport.status == 1 && refusedExport.stdout.isEmpty)
            #expect(refusedExport.stderr.contains("skryba: request \(refused) was refused; only a granted request can be exported"))
            let pendingExport = try setup.server.ssh(key: setup.key.path, "export --request \(pending)", output: output)
            #expect(pendingExport.status == 1 && pendingExport.stdout.isEmpty)
            #expect(pendingExport.stderr.contains("skryba: request \(pending) has not been decided; only a granted request can be exported"))
            let unknown = try setup.server.ssh(key: setup.key.path, "export --request RQ-2026-0099", output: output)
            #expect(unknown.status == 1 && unknown.stderr.contains("there is no request RQ-2026-0099 in the register"))

            for command in ["cat /etc/passwd", "", "export --request \(pending); id", "backup"] {
                let other = try setup.server.ssh(key: setup.key.path, command, output: output)
                #expect(other.status == 1 && other.stdout.isEmpty, "\(command): \(other.stderr)")
                #expect(other.stderr.contains("this account only"), "\(command): \(other.stderr)")
            }
            let backup = try setup.server.ssh(key: setup.key.path, "export --backup", output: output)
            #expect(backup.status == 1 && backup.stderr.contains("this key may not pull the backup export"))

            let stranger = try setup.server.ssh(key: setup.stranger.path, "export --request \(refused)", output: output)
            #expect(stranger.status == 255 && stranger.stdout.isEmpty)
            #expect(stranger.stderr.contains("Permission denied (publickey)"))
            let elsewhere = try setup.server.ssh(key: setup.elsewhere.path, "export --request \(refused)", output: output)
            #expect(elsewhere.status == 255 && elsewhere.stdout.isEmpty)
            #expect(elsewhere.stderr.contains("Permission denied (publickey)"))

            let refusals = try setup.fixture.entries(kind: .exportRefused)
            #expect(refusals.count == 8)
            #expect(refusals.allSatisfy { $0.decodedDetails?["key_fingerprint"] == setup.key.fingerprint })
            #expect(try setup.fixture.entries(kind: .exportStarted).isEmpty)
        }

        @Test func restrictedRecordingsAreLeftOutUnlessTheDecisionAllowsThem() throws {
            var ids: [RecordingID] = [], plain = "", allowing = ""
            let setup = try setUp("restricted") { fixture in
                ids = [try fixture.record(start: DisclosureTime.call, callerNumber: "601234567"),
                       try fixture.record(start: DisclosureTime.call.addingTimeInterval(600), callerNumber: "601234567", speech: 0)]
                try DataSubjectRights(catalog: fixture.catalog, dataDirectory: fixture.dataDirectory, signer: fixture.key)
                    .restrict(ids[1], reason: "sprzeciw (art. 18 RODO)", by: "IOD", at: utc("2026-03-03T08:00:00.000Z"))
                plain = try granted(fixture, ids)
                allowing = try granted(fixture, ids, includeRestricted: true)
            }
            let bundle = "\(setup.directory)/plain.tar"
            let pulled = try setup.server.ssh(key: setup.key.path, "export --request \(plain)", output: bundle)
            #expect(pulled.status == 0, "\(pulled.stderr)")
            let manifest = try BundleVerifier.verify(bundle, pinned: setup.fixture.key.fingerprint).manifest
            #expect(manifest.recordings.map(\.id) == [ids[0].description])
            #expect(manifest.excluded == [.init(id: ids[1].description, reason: "restricted (R12); the decision does not allow restricted recordings")])
            let all = "\(setup.directory)/all.tar"
            #expect(try setup.server.ssh(key: setup.key.path, "export --request \(allowing)", output: all).status == 0)
            let allowed = try BundleVerifier.verify(all, pinned: setup.fixture.key.fingerprint).manifest
            #expect(allowed.recordings.map(\.id) == ids.map(\.description))
            #expect(allowed.recordings.map(\.restricted) == [false, true])
        }

        @Test func aTamperedBundleIsDetectedWithTheExactReason() throws {
            var reference = "", id = RecordingID(rawValue: 0)
            let setup = try setUp("tamper") { fixture in
                id = try fixture.record(start: DisclosureTime.call, callerNumber: "601234567")
                reference = try granted(fixture, [id])
            }
            let bundle = "\(setup.directory)/bundle.tar"
            #expect(try setup.server.ssh(key: setup.key.path, "export --request \(reference)", output: bundle).status == 0)
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bundle)))
            let fingerprint = setup.fixture.key.fingerprint

            func tampered(_ change: (inout [UInt8]) throws -> Void) throws -> String {
                var bytes = original
                try change(&bytes)
                let path = "\(setup.directory)/tampered.tar"
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let result = try Tool.run(tools, ["verify", "--device-key", fingerprint, path])
                #expect(result.status == 1)
                return result.output
            }
            let members = TarLayout.members(original)
            let file = try #require(members[BundleManifest.memberName(id)])
            let recording = try tampered { $0[file.lowerBound + 200] ^= 0x01 }
            #expect(recording.contains("FAILED: recordings/\(id).skryba: SHA-256 "), "\(recording)")
            #expect(recording.contains(", the manifest says "))
            #expect(recording.contains(": the file was altered"))

            let manifest = try #require(members[BundleManifest.fileName])
            let changedManifest = try tampered { bytes in
                try TarLayout.replace("\"it-workstation\"", with: "\"it-workstatioX\"", in: &bytes, within: manifest)
            }
            #expect(changedManifest.contains("FAILED: manifest.sig: the signature does not verify with device key \(fingerprint): manifest.json or its signature was altered"), "\(changedManifest)")

            let signature = try #require(members[BundleManifest.signatureName])
            let changedSignature = try tampered { bytes in bytes[signature.lowerBound + 10] = bytes[signature.lowerBound + 10] == 0x41 ? 0x42 : 0x41 }
            #expect(changedSignature.contains("FAILED: manifest.sig: the signature does not verify with device key \(fingerprint)"), "\(changedSignature)")

            let excerpt = try #require(members[BundleManifest.excerptName])
            let decided = try #require(try setup.fixture.entries(kind: .requestDecided).first)
            let changedExcerpt = try tampered { bytes in
                try TarLayout.replace("art. 15 RODO", with: "art. 16 RODO", in: &bytes, within: excerpt)
            }
            #expect(changedExcerpt.contains("FAILED: audit-excerpt.json: entry \(decided.seq) (request-decided) does not match its hash: the entry was altered"), "\(changedExcerpt)")
            // The untouched bundle still verifies.
            #expect(try Tool.run(tools, ["verify", "--device-key", fingerprint, bundle]).status == 0)
        }

        @Test func aBrokenConnectionLeavesAnEntrySayingTheTransferDidNotComplete() throws {
            var reference = ""
            let fixture = try DisclosureFixture("broken")
            let ids = try (0..<3).map { try fixture.record(start: DisclosureTime.call.addingTimeInterval(Double($0) * 60), callerNumber: "601234567",
                                                           speech: 1, repeats: 24) }
            reference = try granted(fixture, ids)
            // More than a pipe's buffer, so the writer is still writing when the reader goes.
            #expect(try ids.reduce(Int64(0)) { $0 + (try fixture.catalog.recording($1)?.fileSize ?? 0) } > 200_000)
            // export-serve as sshd runs it, its stdout a pipe the reader closes after 4 KiB (the client went away).
            let process = Process()
            process.executableURL = URL(fileURLWithPath: skryba)
            process.arguments = ["export-serve", "--data-dir", fixture.dataDirectory, "--key-fingerprint", "SHA256:test", "--key-comment", "cut"]
            process.environment = ["SSH_ORIGINAL_COMMAND": "export --request \(reference)", "SSH_CLIENT": "127.0.0.1 50000 22"]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            _ = try out.fileHandleForReading.read(upToCount: 4096)
            try out.fileHandleForReading.close()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 1)
            #expect(message.contains("did not complete after"), "\(message)")
            let incomplete = try #require(try fixture.entries(kind: .exportIncomplete).first?.decodedDetails)
            #expect(incomplete["reason"] == "the connection was closed by the other side (EPIPE)")
            #expect(incomplete["key_fingerprint"] == "SHA256:test")
            #expect(try fixture.entries(kind: .exportCompleted).isEmpty)
        }
    }
}

/// Where each member's content lies in a tar file (ustar headers, as the bundle writes them).
enum TarLayout {
    static func members(_ bytes: [UInt8]) -> [String: Range<Int>] {
        var found: [String: Range<Int>] = [:]
        var offset = 0
        while offset + 512 <= bytes.count, !bytes[offset..<offset + 512].allSatisfy({ $0 == 0 }) {
            let name = String(decoding: bytes[offset..<offset + 100].prefix { $0 != 0 }, as: UTF8.self)
            let size = bytes[offset + 124..<offset + 136].reduce(0) { (48...55).contains($1) ? $0 * 8 + Int($1 - 48) : $0 }
            found[name] = offset + 512..<offset + 512 + size
            offset += 512 + (size + 511) / 512 * 512
        }
        return found
    }

    /// Replaces `text` by `replacement` (same length) inside one member's content.
    static func replace(_ text: String, with replacement: String, in bytes: inout [UInt8], within range: Range<Int>) throws {
        let needle = Array(text.utf8), new = Array(replacement.utf8)
        guard needle.count == new.count,
              let start = (range.lowerBound...(range.upperBound - needle.count)).first(where: { Array(bytes[$0..<$0 + needle.count]) == needle }) else {
            throw ToolFailure("'\(text)' is not in that member")
        }
        bytes.replaceSubrange(start..<start + needle.count, with: new)
    }
}
