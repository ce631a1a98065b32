import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import SkrybaSeal
import SkrybaSystem
@testable import SkrybaStore

extension DisclosureTests {
    /// A large export streams in constant memory (issue 11 item 3): the peak RSS of `export-serve`
    /// sending SKRYBA_EXPORT_MB megabytes (default 48; tools/export-memory.sh runs 1024) of synthetic
    /// sealed recordings, against the peak of `list` for the same request, which reads no file.
    @Suite struct ExportMemoryTests {
        let skryba = Tool.product("skryba")

        /// Peak resident set (KiB) and exit status of `skryba ARGS` with stdout to `output`, from wait4.
        static func peakKiB(_ executable: String, _ arguments: [String], environment: [String: String], output: String) throws -> (kib: Int, status: Int32) {
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            var pid = pid_t()
            guard posix_spawn(&pid, executable, &actions, nil, argv, envp) == 0 else { throw ToolFailure("cannot start \(executable)") }
            var status: Int32 = 0
            var usage = rusage()
            guard wait4(pid, &status, 0, &usage) == pid else { throw ToolFailure("wait4 failed") }
            return (usage.ru_maxrss, (status >> 8) & 0xff)
        }

        @Test func aLargeExportStreamsInBoundedMemory() throws {
            let megabytes = Int(ProcessInfo.processInfo.environment["SKRYBA_EXPORT_MB"] ?? "") ?? 48
            let fixture = try DisclosureFixture("memory")
            // Synthetic sealed recordings of 64 MiB each (1 MiB records of pseudo-random bytes, each with its own first 8): the
            // bundle never looks inside, so their content need not be Opus.
            var generator = SplitMix64(seed: 11)
            var record: [UInt8] = (0..<(1 << 17)).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } }
            var ids: [RecordingID] = []
            var left = megabytes
            while left > 0 {
                let records = min(left, 64)
                let start = DisclosureTime.call.addingTimeInterval(Double(ids.count) * 3600)
                let id = try fixture.catalog.insert(NewRecording(line: 1, direction: .incoming, startUTC: start, startFrame: 0,
                                                                 recipients: [fixture.recipient.description], callerNumber: "601234567"), at: start)
                let relative = DataLayout.recordingPath(id, startUTC: start)
                try Directory.create(("\(fixture.dataDirectory)/\(relative)" as NSString).deletingLastPathComponent)
                let writer = try SealedRecordingWriter(path: "\(fixture.dataDirectory)/\(relative)", recipients: [fixture.recipient])
                try fixture.catalog.setFile(id, relativePath: relative, at: start)
                for index in 0..<records {
                    withUnsafeBytes(of: generator.next()) { record.replaceSubrange(0..<8, with: $0) }
                    try writer.append(record, position: UInt64(index + 1) * 48000, final: index == records - 1)
                }
                try fixture.catalog.finish(id, status: .complete, endFrame: UInt64(records) * 8000, durationMs: Int64(records) * 1000,
                                           fileSize: writer.bytesWritten, fileSHA256: writer.sha256, reason: nil, at: start)
                ids.append(id)
                left -= records
            }
            var new = NewRequest(kind: .authority, receivedUTC: DisclosureTime.call)
            (new.authority, new.legalBasis, new.approver, new.caseReference) = (.prosecutor, "art. 15 §1 k.p.k.", .mayor, "PR 1 Ds 1/26")
            let reference = try fixture.register.register(new, by: "kancelaria", at: DisclosureTime.call).reference
            _ = try fixture.register.link(reference, recordings: ids, by: "IOD", at: DisclosureTime.call)
            _ = try fixture.register.decide(reference, grant: true, by: "Burmistrz", reason: "żądanie prokuratora", at: DisclosureTime.call)

            func serve(_ command: String) throws -> (kib: Int, status: Int32) {
                try Self.peakKiB(skryba, ["export-serve", "--data-dir", fixture.dataDirectory, "--key-fingerprint", "SHA256:memory"],
                                 environment: ["SSH_ORIGINAL_COMMAND": command], output: "/dev/null")
            }
            let listing = try serve("list --request \(reference)")
            let started = Date()
            let export = try serve("export --request \(reference)")
            let seconds = Date().timeIntervalSince(started)
            #expect(listing.status == 0 && export.status == 0)
            let sent = UInt64(try #require(try fixture.entries(kind: .exportCompleted).first?.decodedDetails?["bytes"]))
            #expect((sent ?? 0) > UInt64(megabytes) << 20)
            print("export-memory: \(megabytes) MiB in \(ids.count) recording(s): export-serve peak RSS \(export.kib) KiB, "
                  + "list \(listing.kib) KiB, difference \(export.kib - listing.kib) KiB; \(sent ?? 0) bytes in \(String(format: "%.1f", seconds)) s")
            // Constant memory: the export's peak is within 16 MiB of a run that reads no file at all.
            #expect(export.kib - listing.kib < 16 * 1024)
        }
    }
}
