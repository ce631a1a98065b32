import Foundation
import SkrybaOgg
import SkrybaSeal

/// Turns what `SealedRecordingReader.salvage` kept into a playable Ogg Opus file and a report in
/// plain sentences. Records carry whole Ogg pages, so the kept records joined are an Ogg stream with
/// gaps in its page sequence where records are missing (players decode across them: the audio after
/// a hole follows directly). At each hole the bytes are cut back to whole pages with a valid CRC and
/// resume at the next "OggS" page that checks, should a record ever end or start mid-page.
struct SalvageReport {
    let opus: [UInt8]
    let text: String

    /// `R1.opus` → `R1.salvaged.opus` and `R1.salvaged.txt`: the name says the file is incomplete.
    static func outputNames(for output: String) -> (opus: String, report: String) {
        var stem = output
        if stem.hasSuffix(".salvaged.opus") { stem.removeLast(".salvaged.opus".count) } else if stem.hasSuffix(".opus") { stem.removeLast(".opus".count) }
        return (stem + ".salvaged.opus", stem + ".salvaged.txt")
    }

    init(input: String, outputName: String, salvaged: SealedRecordingReader.Salvaged) {
        let records = salvaged.records
        var opus: [UInt8] = []
        for (number, record) in records.enumerated() {
            let afterHole = salvaged.holes.contains { $0.endOffset == record.offset }
            let beforeHole = number + 1 == records.count
                ? !salvaged.hasFinalRecord
                : salvaged.holes.contains { $0.offset == record.offset + SealedFormat.frameHeaderLength + record.plaintext.count + SealedFormat.tagLength }
            let pages = afterHole || beforeHole ? Self.wholePages(record.plaintext) : record.plaintext.indices
            opus += record.plaintext[pages]
        }
        self.opus = opus

        let preSkip = records.first { $0.index == 0 }.flatMap { Self.preSkip(of: $0.plaintext) }
        func time(_ position: UInt64) -> String {
            String(format: "%.3f s", Double(max(0, Int64(clamping: position) - Int64(preSkip ?? 0))) / 48000)
        }
        var lines: [String] = []
        lines.append("Salvage of \(input) into \(outputName).")
        let highest = max(records.last.map { $0.index + 1 } ?? 0, salvaged.holes.compactMap { $0.lastIndex.map { $0 + 1 } }.max() ?? 0)
        lines.append("Kept \(records.count) record(s) of at least \(highest); every kept record authenticated with the identity, nothing else was written.")
        if salvaged.holes.isEmpty {
            lines.append(salvaged.hasFinalRecord ? "Nothing was missing: the recording is whole." : "No record was damaged.")
        }
        for (number, hole) in salvaged.holes.enumerated() {
            let which = switch hole.lastIndex {
            case .some(let last) where last == hole.firstIndex: "record \(hole.firstIndex)"
            case .some(let last): "records \(hole.firstIndex) to \(last)"
            case .none: "record \(hole.firstIndex) and whatever followed it"
            }
            var sentence = "Hole \(number + 1): \(which), bytes \(hole.offset) to \(hole.endOffset) of the sealed file, could not be kept (\(hole.reason))."
            if let next = records.first(where: { $0.offset == hole.endOffset }) {
                let resumes = max(hole.positionBefore, Self.startPosition(of: next) ?? hole.positionBefore)
                let missing = String(format: "%.3f s", Double(resumes - hole.positionBefore) / 48000)
                sentence += " The audio from \(time(hole.positionBefore)) to \(time(resumes)) of the recording"
                    + " (granule positions \(hole.positionBefore) to \(resumes)) is missing (\(missing));"
                    + " in the salvaged file the audio after the hole follows directly, so from there on it plays \(missing) earlier than it was recorded."
            } else {
                sentence += hole.reachesEnd && salvaged.hasFinalRecord
                    ? " These bytes follow the final record; no audio is missing because of them."
                    : " The audio after \(time(hole.positionBefore)) of the recording (granule position \(hole.positionBefore)) is missing."
            }
            lines.append(sentence)
        }
        if records.first?.index != 0 {
            lines.append("Record 0 (the Opus headers) is missing, so the salvaged file will not play as it is.")
        }
        lines.append(salvaged.hasFinalRecord
                     ? "The recording's final record is present: its end survived."
                     : "There is no final record: the recording's end is missing (damaged, cut off, or the recording was interrupted).")
        text = lines.joined(separator: "\n") + "\n"
    }

    /// The whole, CRC-valid Ogg pages at the start of `bytes`, after skipping to the first one.
    static func wholePages(_ bytes: [UInt8]) -> Range<Int> {
        var start = 0
        while start < bytes.count, (try? OggReader.page(in: bytes, at: start)) == nil {
            guard let next = bytes[(start + 1)...].firstRange(of: Array("OggS".utf8))?.lowerBound else { return bytes.count..<bytes.count }
            start = next
        }
        var end = start
        while end < bytes.count, let page = try? OggReader.page(in: bytes, at: end) {
            end += OggPageBuilder.headerBytes + page.segments.count + page.body.count
        }
        return start..<end
    }

    static func preSkip(of headerRecord: [UInt8]) -> Int? {
        guard let page = try? OggReader.page(in: headerRecord, at: 0), page.body.starts(with: Array("OpusHead".utf8)), page.body.count >= 12 else {
            return nil
        }
        return Int(page.body[10]) | Int(page.body[11]) << 8
    }

    /// The granule where `record`'s audio starts: its first page's granule less the samples on that page.
    static func startPosition(of record: SealedRecordingReader.Salvaged.Record) -> UInt64? {
        let range = wholePages(record.plaintext)
        guard !range.isEmpty, let page = try? OggReader.page(in: record.plaintext, at: range.lowerBound), page.granulePosition >= 0 else { return nil }
        let samples = OggReader.packets(in: [page]).reduce(0) { $0 + (Self.samples48k(ofPacket: $1) ?? 0) }
        return UInt64(max(0, page.granulePosition - Int64(samples)))
    }

    /// Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1).
    static func samples48k(ofPacket packet: [UInt8]) -> Int? {
        guard let toc = packet.first else { return nil }
        let configuration = Int(toc >> 3)
        let frame = switch configuration {
        case 0..<12: [480, 960, 1920, 2880][configuration % 4]
        case 12..<16: [480, 960][configuration % 2]
        default: [120, 240, 480, 960][configuration % 4]
        }
        let frames: Int
        switch toc & 3 {
        case 0: frames = 1
        case 1, 2: frames = 2
        default:
            guard packet.count >= 2 else { return nil }
            frames = Int(packet[1] & 0x3F)
        }
        return frame * frames
    }
}
