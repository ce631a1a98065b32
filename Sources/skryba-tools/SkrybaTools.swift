import ArgumentParser
import Foundation
import SkrybaOgg
import SkrybaPipeline

@main
struct SkrybaTools: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skryba-tools",
        abstract: "Skryba tools for IT's workstation: inspect, verify and decrypt recordings.",
        discussion: "Keys are made with stock age-keygen; identities (AGE-SECRET-KEY-1…) never go onto the appliance.",
        version: SkrybaVersion.current,
        subcommands: [InspectCommand.self])
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the Ogg Opus structure of a recording: pages, granule positions, pre-skip, tags; checks every CRC.")

    @Argument(help: "An .opus file.") var file: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): cannot read the file") }
        let pages = try OggReader.pages(in: [UInt8](data))
        let packets = OggReader.packets(in: pages)
        let summary = try OpusStreamSummary(pages: pages, packets: packets)
        print("\(file): \(pages.count) pages, \(packets.count) packets, all page CRCs valid")
        print("pre-skip \(summary.preSkip) samples at 48 kHz, input rate \(summary.inputSampleRate) Hz")
        print("vendor: \(summary.vendor)")
        for comment in summary.comments { print("  \(comment)") }
        print(String(format: "duration %.3f s (final granule %lld)", summary.durationSeconds, summary.finalGranule))
    }
}
