import Crypto
import Foundation
import Testing
import SkrybaPipeline
import SkrybaSeal
import SkrybaSystem
import GRDB
import SkrybaStore

extension StoreTests {
    /// The audit log is append-only, hash-chained and checkpointed; each way root could tamper with
    /// the file is detected and named exactly.
    @Suite struct AuditLogTests {
        /// The worked example of docs/storage.md, recomputed here byte by byte from the documented
        /// layout without the library's encoder.
        @Test func entryHashesFollowTheDocumentedLayout() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-audit-vector")
            let audit = try Catalog(dataDirectory: directory).audit
            let first = try audit.append(.configChanged, details: ["value": "30", "setting": "retention_days"],
                                         actor: "console:technician", at: StoreTime.t0)
            let second = try audit.append(.recordingDeleted, subject: "R000012", details: ["reason": "retention"], at: StoreTime.at(1))

            func field(_ text: String?) -> [UInt8] {
                guard let text else { return [0xFF, 0xFF, 0xFF, 0xFF] }
                let count = UInt32(text.utf8.count)
                return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + Array(text.utf8)
            }
            var message = Array("skryba-audit-entry/v1\n".utf8) + [UInt8](repeating: 0, count: 32) + [0, 0, 0, 0, 0, 0, 0, 1]
            message += field("2025-03-14T09:26:53.589Z") + field("config-changed") + field(nil) + field("console:technician")
            message += field(#"{"setting":"retention_days","value":"30"}"#)
            #expect(message.count == 179)
            #expect(first.details == #"{"setting":"retention_days","value":"30"}"#)
            #expect(first.prevHash == Data(count: 32))
            #expect(first.hash == Data(SHA256.hash(data: message)))
            #expect(first.hash.hexString == "da29906d9aed33ca6f3d648d31334ab8b88cfbb789810f8ef5b25155ed71f513")
            #expect(second.prevHash == first.hash)
            #expect(second.hash.hexString == "472896d11f16c1af019bdafa29f54cf5f5cc8f15b3c43d7d2670e164c28e0feb")
            #expect(AuditCheckpoint.message(seq: 2, hash: second.hash).hexString
                == "736b727962612d61756469742d636865636b706f696e742f76310a0000000000000002" + second.hash.hexString)
            #expect(try audit.entries() == [first, second])
            #expect(try audit.lastEntry() == second)
            #expect(try audit.entries(2...2) == [second])
        }

        @Test func updateAndDeleteThroughPlainSQLFail() throws {
            let fixture = try StoreFixture.withCheckpointedLog("append-only")
            let database = try RawSQLite(path: fixture.catalogPath)
            for statement in ["UPDATE audit_log SET details = '{}' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 9",
                              "DELETE FROM audit_log", "UPDATE audit_checkpoints SET seq = 1", "DELETE FROM audit_checkpoints"] {
                let error = #expect(throws: DatabaseError.self) { try database.execute(statement) }
                let table = statement.contains("checkpoints") ? "audit_checkpoints" : "audit_log"
                #expect(error?.message == "\(table) is append-only", "\(statement)")
                #expect(error?.extendedResultCode.rawValue == 1811, "\(statement)")  // SQLITE_CONSTRAINT_TRIGGER
            }
            #expect(try fixture.catalog.audit.verify(trustedPublicKey: fixture.key.publicKey).isIntact)
        }

        @Test func anIntactLogReportsItsCoverageHonestly() throws {
            let fixture = try StoreFixture.withCheckpointedLog("intact")
            let audit = fixture.catalog.audit
            let verification = try audit.verify(trustedPublicKey: fixture.key.publicKey)
            #expect(verification == AuditVerification(
                entryCount: 9, lastSeq: 9, checkpointCount: 1, coveredThrough: 6, coveringKeyFingerprint: fixture.key.fingerprint,
                problem: nil, warnings: ["entries 7–9 are not yet covered by a signed checkpoint"]))
            #expect(verification.summary == """
                audit log: 9 entries, 1 signed checkpoint
                entries 1–6 covered by a signed checkpoint (device key \(fixture.key.fingerprint))
                warning: entries 7–9 are not yet covered by a signed checkpoint
                chain intact
                """)

            let checkpoint = try audit.checkpoint(signer: fixture.key, at: StoreTime.at(30))
            #expect(checkpoint.seq == 10)
            #expect(checkpoint.isSignatureValid)
            #expect(try audit.lastEntry()?.kind == "checkpoint")
            #expect(try audit.lastEntry()?.decodedDetails == ["public_key": fixture.key.publicKeyHex, "fingerprint": fixture.key.fingerprint])
            #expect(try audit.checkpoints().map(\.seq) == [6, 10])
            let covered = try audit.verify(trustedPublicKey: fixture.key.publicKey)
            #expect(covered.coveredThrough == 10)
            #expect(covered.warnings == [])
            #expect(covered.isIntact)

            let empty = try Catalog(dataDirectory: try makeTemporaryDirectory(prefix: "skryba-audit-empty")).audit
            #expect(throws: CatalogError.emptyAuditLog) { try empty.checkpoint(signer: fixture.key, at: StoreTime.t0) }
            #expect(try empty.verify() == AuditVerification(entryCount: 0, lastSeq: 0, checkpointCount: 0, coveredThrough: 0,
                                                           coveringKeyFingerprint: nil, problem: nil, warnings: []))
        }

        /// Issue 8 item 10: the log is signed as it grows, not only at a clean exit. A process that
        /// dies without closing (here: a catalog dropped without a checkpoint) leaves fewer than 64
        /// unsigned entries, and verification says how far the signatures reach.
        @Test func checkpointsAreSignedAsTheLogGrows() throws {
            let fixture = try StoreFixture("grow")
            fixture.catalog.audit.signCheckpoints(with: fixture.key, everyEntries: 64)
            // Entry 1 is the key's; 64 more: the 64th uncovered entry (seq 64) brings checkpoint 65.
            for index in 1...65 {
                try fixture.catalog.audit.append(.configChanged, details: ["value": String(index)], at: StoreTime.at(Double(index)))
            }
            let reopened = try Catalog(dataDirectory: fixture.directory)
            let verification = try reopened.audit.verify(trustedPublicKey: fixture.key.publicKey)
            #expect(verification == AuditVerification(
                entryCount: 67, lastSeq: 67, checkpointCount: 1, coveredThrough: 65, coveringKeyFingerprint: fixture.key.fingerprint,
                problem: nil, warnings: ["entries 66–67 are not yet covered by a signed checkpoint"]))
            #expect(try reopened.audit.checkpoints().first?.timeUTC == UTCTimestamp.string(from: StoreTime.at(63)),
                    "dated like the entry that made it due")

            // However the writes come, the unsigned tail never reaches 64 entries.
            for index in 66...300 {
                try fixture.catalog.audit.append(.configChanged, details: ["value": String(index)], at: StoreTime.at(Double(index)))
                let now = try reopened.audit.verify(trustedPublicKey: fixture.key.publicKey)
                #expect(now.isIntact && now.lastSeq - now.coveredThrough < 64, "\(now.summary)")
            }
        }

        /// The same on the real daemon: 40 short calls on a simulated office, skrybad SIGKILLed once
        /// the 30th recording's audio is durable — no clean exit, no closing checkpoint — and the log
        /// is still signed to within 64 entries of its end.
        @Test func aKilledDaemonLeavesFewerThan64UnsignedEntries() throws {
            let directory = try makeTemporaryDirectory(prefix: "skryba-audit-kill")
            var scenario = Scenario(announcement: "Rozmowy są nagrywane.", lines: [Scenario.Line(id: 1, name: "Sekretariat")], calls: [])
            scenario.calls = (0..<40).map { Scenario.Call(line: 1, direction: .outgoing, at: 0.5 + Double($0) * 2, dial: "6", hangUpAfter: 1) }
            let rendered = try ScenarioRenderer(scenario: scenario, directory: directory).render()
            let config = "\(directory)/skryba.toml", data = "\(directory)/data"
            try Simulator.configuration(for: scenario, recipients: [AgeIdentity().recipient], dataDirectory: data)
                .write(toFile: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tool.product("skrybad"))
            process.arguments = ["--config", config, "--stop-at-frame", "\(rendered.frames)", "--pacing", "simulation",
                                 "--assume-clock-synchronised", "--progress"]
            process.environment = ProcessInfo.processInfo.environment.merging(["ALSA_CONFIG_PATH": rendered.alsaConfiguration]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            while !text.contains(#"{"durable":"R000030""#) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            #expect(text.contains(#"{"durable":"R000030""#), "the daemon got that far before it was killed")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)

            let audit = try Catalog(dataDirectory: data).audit
            let key = try DeviceKey.load(path: "\(data)/\(DataLayout.deviceKey)")
            let verification = try audit.verify(trustedPublicKey: key.publicKey)
            #expect(verification.isIntact, "\(verification.summary)")
            #expect(verification.lastSeq > 64 && verification.checkpointCount >= 2, "\(verification.summary)")
            #expect(verification.lastSeq - verification.coveredThrough < 64, "\(verification.summary)")
        }

        @Test func anOldUnsignedEntryIsSignedAtTheNextWriteAfterFifteenMinutes() throws {
            let fixture = try StoreFixture("grow-time")
            fixture.catalog.audit.signCheckpoints(with: fixture.key, everyEntries: 64, everyMinutes: 15)
            try fixture.catalog.audit.append(.consoleLogin, at: StoreTime.at(1))
            #expect(try fixture.catalog.audit.checkpoints() == [])
            try fixture.catalog.audit.append(.consoleLogin, at: StoreTime.at(16 * 60))
            let checkpoints = try fixture.catalog.audit.checkpoints()
            #expect(checkpoints.map(\.seq) == [4] && checkpoints.first?.timeUTC == UTCTimestamp.string(from: StoreTime.at(16 * 60)))
            #expect(try fixture.catalog.audit.verify().coveredThrough == 4)
            // Nothing new: a retention run's closing checkpoint adds nothing.
            #expect(try fixture.catalog.audit.checkpointIfUncovered(signer: fixture.key, at: StoreTime.at(17 * 60)) == nil)
        }

        @Test func aChangedDetailIsDetected() throws {
            let fixture = try StoreFixture.withCheckpointedLog("changed")
            try Attacker(fixture.catalogPath).sql("""
                UPDATE audit_log SET details = '{"setting":"retention_days","value":"3650"}' WHERE seq = 3
                """)
            let verification = try fixture.catalog.audit.verify()
            #expect(verification.problem == .modifiedEntry(seq: 3))
            #expect(verification.problem?.description == "entry 3: hash does not match its contents (modified after it was written)")
            #expect(verification.lastSeq == 2)
            #expect(verification.coveredThrough == 0)
            #expect(verification.entryCount == 9)
        }

        @Test func deletedEntriesAreNamed() throws {
            let middle = try StoreFixture.withCheckpointedLog("deleted-middle")
            try Attacker(middle.catalogPath).sql("DELETE FROM audit_log WHERE seq IN (3, 4, 5)")
            #expect(try middle.catalog.audit.verify().problem?.description == "entries 3–5 missing")

            let single = try StoreFixture.withCheckpointedLog("deleted-one")
            try Attacker(single.catalogPath).sql("DELETE FROM audit_log WHERE seq = 8")
            let verification = try single.catalog.audit.verify()
            #expect(verification.problem?.description == "entry 8 missing")
            #expect(verification.coveredThrough == 6)  // what was checked before the gap still stands

            let head = try StoreFixture.withCheckpointedLog("deleted-head")
            try Attacker(head.catalogPath).sql("DELETE FROM audit_log WHERE seq <= 2")
            #expect(try head.catalog.audit.verify().problem?.description == "entries 1–2 missing")
        }

        @Test func aReorderedPairIsDetectedAndRehashingItDoesNotHelpBeforeACheckpoint() throws {
            let naive = try StoreFixture.withCheckpointedLog("reordered")
            try Attacker(naive.catalogPath).swapEntries(3, 4)
            #expect(try naive.catalog.audit.verify().problem?.description == "entry 3: hash does not match its contents (modified after it was written)")

            let careful = try StoreFixture.withCheckpointedLog("reordered-rehashed")
            let attacker = try Attacker(careful.catalogPath)
            try attacker.swapEntries(3, 4)
            try attacker.rechain(from: 3)
            #expect(try careful.catalog.audit.entries().allSatisfy { $0.recomputedHash == $0.hash })
            #expect(try careful.catalog.audit.verify().problem?.description
                == "checkpoint at entry 6: signed a different hash than entry 6 has now (entries up to 6 were rewritten after it was signed)")
        }

        @Test func aReplacedEntryBreaksTheNextLink() throws {
            let fixture = try StoreFixture.withCheckpointedLog("relinked")
            let attacker = try Attacker(fixture.catalogPath)
            try attacker.sql("UPDATE audit_log SET actor = 'skrybad' WHERE seq = 4")
            try attacker.rechain(from: 4, through: 4)  // entry 4 is self-consistent again; entry 5 still names the old one
            let verification = try fixture.catalog.audit.verify()
            #expect(verification.problem == .brokenLink(seq: 5))
            #expect(verification.problem?.description == "entry 5: prev_hash does not link to entry 4")
            #expect(AuditProblem.brokenLink(seq: 1).description == "entry 1: prev_hash is not 32 zero bytes (the log does not start here)")
        }

        /// Root rewrites history, recomputes every hash and re-signs with a key of its own: only a
        /// pinned public key tells the difference. This is the limit docs/storage.md states.
        @Test func aForgedCheckpointIsCaughtByThePinnedKey() throws {
            let fixture = try StoreFixture.withCheckpointedLog("forged")
            let attacker = try Attacker(fixture.catalogPath)
            let forger = Curve25519.Signing.PrivateKey()
            let forgerKey = forger.publicKey.rawRepresentation
            try attacker.sql("UPDATE audit_log SET details = '{\"setting\":\"retention_days\",\"value\":\"3650\"}' WHERE seq = 3")
            try attacker.sql("UPDATE audit_log SET details = ? WHERE seq = 6",
                             [.text(#"{"fingerprint":"\#(DeviceKey.fingerprint(of: forgerKey))","public_key":"\#(forgerKey.hexString)"}"#)])
            try attacker.rechain(from: 3)
            let entry6 = try #require(try fixture.catalog.audit.entries(6...6).first)
            let signature = try forger.signature(for: AuditCheckpoint.message(seq: 6, hash: entry6.hash))
            try attacker.sql("UPDATE audit_checkpoints SET hash = ?, public_key = ?, signature = ? WHERE seq = 6",
                             [.blob(Array(entry6.hash)), .blob(Array(forgerKey)), .blob(Array(signature))])

            let pinned = try fixture.catalog.audit.verify(trustedPublicKey: fixture.key.publicKey)
            #expect(pinned.problem?.description == "checkpoint at entry 6: signed by device key \(DeviceKey.fingerprint(of: forgerKey)), "
                + "not by the trusted key \(fixture.key.fingerprint)")
            #expect(pinned.coveredThrough == 0)
            let unpinned = try fixture.catalog.audit.verify()
            #expect(unpinned.isIntact)
            #expect(unpinned.coveringKeyFingerprint == DeviceKey.fingerprint(of: forgerKey))
        }

        @Test func aTamperedSignatureOrKeyIsNamed() throws {
            let badSignature = try StoreFixture.withCheckpointedLog("bad-signature")
            try Attacker(badSignature.catalogPath).sql("UPDATE audit_checkpoints SET signature = zeroblob(64)")
            #expect(try badSignature.catalog.audit.verify(trustedPublicKey: badSignature.key.publicKey).problem?.description
                == "checkpoint at entry 6: signature invalid for device key \(badSignature.key.fingerprint)")

            // A checkpoint row swapped for one by another key, the entry still naming the device key.
            let swappedKey = try StoreFixture.withCheckpointedLog("swapped-key")
            let other = Curve25519.Signing.PrivateKey()
            let entry6 = try #require(try swappedKey.catalog.audit.entries(6...6).first)
            try Attacker(swappedKey.catalogPath).sql("UPDATE audit_checkpoints SET public_key = ?, signature = ?", [
                .blob(Array(other.publicKey.rawRepresentation)),
                .blob(Array(try other.signature(for: AuditCheckpoint.message(seq: 6, hash: entry6.hash)))),
            ])
            #expect(try swappedKey.catalog.audit.verify().problem?.description
                == "checkpoint at entry 6: signed by device key \(DeviceKey.fingerprint(of: other.publicKey.rawRepresentation)), "
                + "but entry 6 names device key \(swappedKey.key.fingerprint)")
        }

        @Test func checkpointRowsMustMatchCheckpointEntries() throws {
            let deleted = try StoreFixture.withCheckpointedLog("checkpoint-deleted")
            try Attacker(deleted.catalogPath).sql("DELETE FROM audit_checkpoints")
            #expect(try deleted.catalog.audit.verify().problem?.description
                == "entry 6 records a checkpoint, but its signature is missing from audit_checkpoints (deleted)")

            // Copying the genuine checkpoint row to another entry does not make that entry a checkpoint.
            let moved = try StoreFixture.withCheckpointedLog("checkpoint-moved")
            try Attacker(moved.catalogPath).sql("""
                INSERT INTO audit_checkpoints (seq, hash, time_utc, public_key, signature)
                SELECT 4, hash, time_utc, public_key, signature FROM audit_checkpoints WHERE seq = 6
                """)
            #expect(try moved.catalog.audit.verify().problem?.description
                == "checkpoint at entry 4: entry 4 is a config-changed entry, not a checkpoint (forged checkpoint)")
        }

        @Test func truncationAfterTheLastCheckpointIsAWarningBeforeItAnError() throws {
            let tail = try StoreFixture.withCheckpointedLog("truncated-tail")
            try Attacker(tail.catalogPath).sql("DELETE FROM audit_log WHERE seq > 7")
            let shortened = try tail.catalog.audit.verify(trustedPublicKey: tail.key.publicKey)
            #expect(shortened == AuditVerification(
                entryCount: 7, lastSeq: 7, checkpointCount: 1, coveredThrough: 6, coveringKeyFingerprint: tail.key.fingerprint,
                problem: nil, warnings: ["entry 7 is not yet covered by a signed checkpoint"]))

            let cut = try StoreFixture.withCheckpointedLog("truncated-before-checkpoint")
            try Attacker(cut.catalogPath).sql("DELETE FROM audit_log WHERE seq >= 5")
            let verification = try cut.catalog.audit.verify(trustedPublicKey: cut.key.publicKey)
            #expect(verification.problem == .truncated(lastSeq: 4, checkpointSeq: 6))
            #expect(verification.problem?.description
                == "entries 5–6 missing: the log ends at entry 4, but the checkpoint at entry 6 covers them (truncated)")
            #expect(verification.summary.hasPrefix("audit log: 4 entries, 1 signed checkpoint\nPROBLEM: entries 5–6 missing"))

            let emptied = try StoreFixture.withCheckpointedLog("truncated-all")
            try Attacker(emptied.catalogPath).sql("DELETE FROM audit_log")
            #expect(try emptied.catalog.audit.verify().problem?.description
                == "entries 1–6 missing: the log is empty, but the checkpoint at entry 6 covers them (truncated)")
        }

        /// Line workers append from several threads, and the console from another process: the chain
        /// stays gapless because each append reads the head and inserts under one write lock.
        @Test func concurrentAppendsFromThreadsAndProcessesKeepOneChain() throws {
            let fixture = try StoreFixture("concurrent")
            let console = try Catalog(path: fixture.catalogPath, actor: "console:technician")
            let daemonAudit = fixture.catalog.audit
            DispatchQueue.concurrentPerform(iterations: 8) { worker in
                for index in 0..<25 {
                    let audit = worker.isMultiple(of: 2) ? daemonAudit : console.audit
                    _ = try? audit.append(.fsckFinding, details: ["worker": String(worker), "index": String(index)], at: StoreTime.t0)
                }
            }
            let verification = try daemonAudit.verify()
            #expect(verification.isIntact)
            #expect(verification.entryCount == 201)
            #expect(try daemonAudit.entries().map(\.seq) == Array(1...201))
            #expect(Set(try daemonAudit.entries().map(\.actor)) == ["skrybad", "console:technician"])
        }
    }
}

extension Data {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
