import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SkrybaExport
import SkrybaSeal
import SkrybaStore
import SkrybaSystem
import SkrybaPipeline

/// IT's side of an export (docs/disclosure.md): verifying a bundle pulled over SSH, decrypting its
/// recordings to standard .opus files with an index, and the signed record of a listening.
enum BundleTools {
    static func verify(_ path: String, deviceKey: String?) throws -> BundleVerifier.Verified {
        do { return try BundleVerifier.verify(path, pinned: deviceKey) } catch { throw ToolFailure("\(path): FAILED: \(error.description)") }
    }

    static func summary(_ verified: BundleVerifier.Verified, path: String, pinned: Bool) -> String {
        let manifest = verified.manifest
        var lines = ["\(path): Skryba export bundle \(manifest.export) (\(manifest.kind)), made \(warsaw(manifest.created))"]
        if let request = manifest.request {
            lines.append("request \(request.reference) (\(request.kind)), \(request.decision) by \(request.decidedBy) on \(warsaw(request.decided))")
        }
        lines.append("pulled by key \(manifest.pulledBy.keyFingerprint) (\(manifest.pulledBy.keyComment))\(manifest.pulledBy.address.map { " from \($0)" } ?? "")")
        lines.append("\(manifest.recordings.count) recording(s); \(manifest.excluded.count) left out" + manifest.excluded.map { "\n  left out: \($0.id): \($0.reason)" }.joined())
        lines.append("audit excerpt: entries \(manifest.auditExcerpt.firstSeq)–\(manifest.auditExcerpt.lastSeq), chain and checkpoint verified")
        lines.append(pinned ? "OK: signed by the pinned device key \(manifest.device.fingerprint); every file's SHA-256 matches the manifest"
                            : "signed by device key \(manifest.device.fingerprint), NOT checked against a pinned key (give --device-key)")
        return lines.joined(separator: "\n")
    }

    static func warsaw(_ utc: String) -> String {
        UTCTimestamp.date(from: utc).map(WarsawTime.minute) ?? utc
    }

    /// Verifies, then writes DIR/Rnnnnnn.opus for each recording and DIR/index.txt.
    static func decrypt(_ path: String, identityFile: String, directory: String, deviceKey: String?) throws {
        let verified = try verify(path, deviceKey: deviceKey)
        let identities = try AgeIdentity.load(identityFile: identityFile)
        do { try Directory.create(directory, permissions: 0o700) } catch { throw ToolFailure("\(directory): \(error)") }
        var written: [String: String] = [:]
        try BundleVerifier.forEachRecording(path) { name, bytes in
            guard let recording = verified.manifest.recordings.first(where: { $0.file == name }) else { return }
            let opened: SealedRecordingReader.Opened
            do { opened = try SealedRecordingReader.open(bytes, identities: identities) } catch {
                throw ToolFailure("\(name): \(error)")
            }
            let output = "\(directory)/\(recording.id).opus"
            try OutputFile.write(opened.plaintext, to: output, input: path)
            written[recording.id] = opened.problem.map { "only the verified beginning: \($0)" } ?? "complete"
        }
        var index = [summary(verified, path: path, pinned: deviceKey != nil), ""]
        let header = ["file", "start", "line", "direction", "caller", "called", "duration", "announcement", "consent", "audio"]
        let rows = verified.manifest.recordings.map { recording in
            ["\(recording.id).opus", warsaw(recording.start), String(recording.line), recording.direction, recording.callerNumber ?? "unidentified",
             recording.calledNumber ?? "-", recording.durationMs.map { String(format: "%.1f s", Double($0) / 1000) } ?? "-",
             recording.announcementID.map { "\($0)\(recording.announcementCompleted == true ? " (to the end)" : recording.announcementCompleted == false ? " (cut short)" : "")" } ?? "-",
             recording.consent ?? "-", written[recording.id] ?? "missing"].map(FreeText.printable)
        }
        index += table(header, rows)
        try OutputFile.write(Array((index.joined(separator: "\n") + "\n").utf8), to: "\(directory)/index.txt", input: path)
        print("\(path): \(written.count) recording(s) decrypted to \(directory) (index: \(directory)/index.txt)")
    }

    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { cells in
            cells.indices.map { $0 == cells.count - 1 ? cells[$0] : cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
    }
}

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Record who listened to a verified bundle's recordings, who was present and when, as a signed listening record.",
        discussion: """
            The record is signed with the listener's Ed25519 key (PKCS #8 PEM, mode 0600: \
            openssl genpkey -algorithm ed25519 -out listener.key) and taken back to the appliance: \
            skryba requests listened --record FILE.
            """)

    @Argument(help: "The bundle that was listened to.") var bundle: String
    @Option(help: "The device key IT pinned (fingerprint or full key).") var deviceKey: String
    @Option(help: "Who listened.") var listener: String
    @Option(help: "Who was present (repeat for each person).") var present: [String] = []
    @Option(help: "When the listening started (Warsaw time or ISO 8601 UTC; default: now).") var started: String?
    @Option(help: "When it ended (default: now).") var ended: String?
    @Option(help: "Only these recordings (default: every one in the bundle).") var recording: [String] = []
    @Option(help: "The listener's Ed25519 signing key.") var signingKey: String
    @Option(name: .shortAndLong, help: "Where to write the listening record.") var output: String

    func run() throws {
        for value in [listener] + present {
            if let problem = FreeText.problem(value, field: "--listener/--present") { throw ValidationError(problem) }
        }
        let verified = try BundleTools.verify(bundle, deviceKey: deviceKey)
        guard let request = verified.manifest.request else { throw ToolFailure("\(bundle) is a backup export; listenings are recorded for requests") }
        let inBundle = verified.manifest.recordings.map(\.id)
        if let stray = recording.first(where: { !inBundle.contains($0) }) { throw ToolFailure("recording \(stray) is not in \(bundle)") }
        func time(_ text: String?, _ option: String) throws -> String {
            guard let text else { return UTCTimestamp.string(from: Date()) }
            do { return UTCTimestamp.string(from: try CommandLineDate.parse(text)) } catch { throw ValidationError("\(option): \(error)") }
        }
        let key: DeviceKey
        do { key = try DeviceKey.load(path: signingKey) } catch { throw ToolFailure("\(signingKey): \(error)") }
        let body = ListeningRecord.Body(format: ListeningRecord.format, request: request.reference, manifestSHA256: verified.manifestSHA256,
                                        recordings: recording.isEmpty ? inBundle : recording, listenedBy: listener, present: present,
                                        started: try time(started, "--started"), ended: try time(ended, "--ended"))
        let record = ListeningRecord.make(body, signer: key)
        try OutputFile.write(record.encoded(), to: output, input: bundle)
        print("\(output): listening of \(request.reference) by \(listener) signed with key \(key.fingerprint)")
    }
}
