import ArgumentParser
import Foundation
import SkrybaConfig
import SkrybaCore
import SkrybaDocuments
import SkrybaStore

/// The monthly record of processing for the DPO (R14, docs/documents.md "The monthly report").
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The signed monthly report for the data-protection officer, in Polish: calls, listenings, exports, copies, holds, deletions, alarms.",
        discussion: """
            Made from the audit log (read only) for one Warsaw calendar month, and signed by the device key (Ed25519 over the JSON). \
            --format json writes the signed report itself; html and pdf write the printout and the signed JSON beside it \
            (FILE with the extension .json), which IT checks with: skryba-tools verify-report FILE.json --device-key FINGERPRINT.
            """)

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "The month, YYYY-MM (Warsaw time).") var month: String
    @Option(help: "json, html or pdf.") var format: String = "pdf"
    @Option(name: .shortAndLong, help: "The file to write.") var output: String
    @Option(help: "The office named on the report; default: the configuration's [office] name.") var office: String = ""
    @Option(help: "Where DejaVuSans.ttf and DejaVuSans-Bold.ttf are (Debian fonts-dejavu-core).")
    var fontDirectory: String = DocumentFonts.defaultDirectory

    func validate() throws {
        guard ["json", "html", "pdf"].contains(format) else { throw ValidationError("--format is json, html or pdf, not '\(format)'") }
        guard MonthlyReport.bounds(month: month) != nil else { throw ValidationError("--month \(month) is not a month: give it as YYYY-MM, e.g. 2026-03") }
        if !office.isEmpty { try checkText(office, "--office") }
    }

    func run() throws {
        let configuration = try data.optionalConfiguration()
        let dataDir = try data.dataDir
        let key: DeviceKey
        do { key = try DeviceKey.load(path: "\(dataDir)/\(DataLayout.deviceKey)") } catch {
            throw CommandFailure("cannot sign the report: \(error.description)")
        }
        let lines = configuration?.lines.map { line in
            ReportLine(id: line.id, name: line.name, purpose: line.purpose, legalBasis: line.legalBasis, informationClause: line.informationClause,
                       directions: CallDirection.allCases.filter(line.record.contains).map(\.rawValue))
        } ?? []
        let report: MonthlyReport
        do {
            report = try MonthlyReport(month: month, auditEntries: try data.readOnlyCatalog().audit.entries(), lines: lines,
                                       office: office.isEmpty ? configuration?.office?.name ?? "" : office,
                                       recorderID: configuration?.recorderID ?? "", generated: Date())
        } catch let problem as ReportProblem { throw CommandFailure(problem.description) }
        let (signed, json) = try SignedMonthlyReport.sign(report, with: key)
        let jsonPath = format == "json" ? output : (output as NSString).deletingPathExtension + ".json"
        if jsonPath == output && format != "json" { throw ValidationError("-o \(output) would be overwritten by the signed JSON; give the file an extension (.\(format))") }
        try write(json, to: jsonPath)
        print("\(jsonPath): signed monthly report \(month), device key \(signed.fingerprint), \(json.count) bytes")
        guard let documentFormat = DocumentFormat(rawValue: format) else { return }
        try write(try DocumentOutputOptions.render(signed.document, as: documentFormat, fontDirectory: fontDirectory), to: output)
        print("\(output): \(format.uppercased()) printout of the same report")
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CommandFailure("cannot write \(path): \((error as NSError).localizedDescription)")
        }
    }
}
