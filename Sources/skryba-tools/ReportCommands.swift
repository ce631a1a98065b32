import ArgumentParser
import Foundation
import SkrybaDocuments

/// IT's check of the DPO's monthly report (`skryba report`, docs/documents.md): the signature over
/// the JSON, by the device key IT pinned.
struct VerifyReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-report",
        abstract: "Check a signed monthly report (skryba report … --format json) against the pinned device key. Exit status 0 when it verifies.")

    @Argument(help: "The report's JSON file.") var input: String
    @Option(help: "The pinned device key: its fingerprint (16 hex digits) or full key (64).") var deviceKey: String

    func run() throws {
        let bytes = try readFile(input)
        let signed: SignedMonthlyReport
        do { signed = try SignedMonthlyReport.verify(bytes, pinned: deviceKey) } catch {
            throw ToolFailure("\(input): FAILED: \(error.description)")
        }
        let report = signed.report
        let calls = report.lines.flatMap(\.directions).reduce(0) { $0 + $1.calls }
        print("\(input): monthly report \(report.month)\(report.office.isEmpty ? "" : " of \(report.office)"), audit log to entry \(report.auditLastSeq)")
        print("\(calls) call(s) on \(report.lines.count) line(s), \(report.listenings.count) listening(s), \(report.exports.count) export(s), "
            + "\(report.deleted.reduce(0) { $0 + $1.count }) deletion(s), \(report.alarms.count + report.gaps.count) alarm(s) and gap(s)")
        print("OK: signed by the pinned device key \(signed.fingerprint)")
    }
}
