import Foundation
import Testing
import SkrybaOgg
import SkrybaOpus
import SkrybaPipeline

/// Ogg Opus structure (RFC 7845), checked by parsing the pages and by opusinfo.
@Suite struct OggOpusTests {
    /// Encodes `samples` (8 kHz) with the line encoder into a file; returns its path.
    func encode(_ samples: [Int16], packetsPerPage: Int = 50, name: String) throws -> String {
        let path = "\(ALSAFixture.shared.directory)/\(name).opus"
        let encoder = try LineEncoder(sampleRate: 8000, settings: OpusSettings(), sink: try FileSink(path: path), serialNumber: 0x1234,
                                      metadata: .init([("SKRYBA_LINE", "3"), ("SKRYBA_START_UTC", "2026-11-22T10:00:00Z")]),
                                      packetsPerPage: packetsPerPage)
        try samples.withUnsafeBufferPointer { try encoder.consume($0) }
        try encoder.finish()
        try encoder.sink.close()
        return path
    }

    @Test func pagesFollowRFC7845() throws {
        let speech = ALSAFixture.shared.speech[0]
        let path = try encode(speech, name: "structure")
        let pages = try OggReader.pages(in: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        let packets = OggReader.packets(in: pages)
        let summary = try OpusStreamSummary(pages: pages, packets: packets)

        let lookahead = try OpusEncoder(sampleRate: 8000, settings: OpusSettings()).lookahead
        #expect(summary.preSkip == lookahead * 6)
        #expect(summary.inputSampleRate == 8000)
        #expect(summary.vendor.hasPrefix("Skryba "))
        #expect(summary.comment("SKRYBA_LINE") == "3")
        #expect(summary.comment("skryba_start_utc") == "2026-11-22T10:00:00Z")
        #expect(pages.map(\.sequenceNumber) == (0..<UInt32(pages.count)).map { $0 })
        #expect(Set(pages.map(\.serialNumber)) == [0x1234])
        #expect(pages[0].isBeginningOfStream && pages[0].segments == [19])

        // Audio pages: whole 20 ms packets (960 at 48 kHz), at most 50 (one second) per page.
        let audioPages = pages.dropFirst(2)
        var packetsSoFar: Int64 = 0
        for page in audioPages.dropLast() {
            let onPage = page.segments.filter { $0 < 255 }.count
            #expect(onPage <= 50)
            packetsSoFar += Int64(onPage)
            #expect(page.granulePosition == packetsSoFar * 960)
            #expect(!page.isEndOfStream)
        }
        // The last page ends the stream and trims to exactly the captured samples.
        let last = pages.last!
        #expect(last.isEndOfStream)
        #expect(last.granulePosition == Int64(summary.preSkip) + Int64(speech.count) * 6)
        let totalPackets = Int64(packets.count - 2)
        #expect(totalPackets * 960 >= last.granulePosition, "packets cover the trimmed end")
        #expect(totalPackets * 960 - last.granulePosition < 960 + Int64(summary.preSkip), "no more than one frame of padding beyond lookahead")
    }

    @Test func opusinfoAcceptsTheStreamWithoutWarnings() throws {
        let speech = ALSAFixture.shared.speech[1]
        let path = try encode(speech, name: "opusinfo")
        let result = try Tool.run("opusinfo", [path])
        #expect(result.status == 0)
        #expect(!result.output.localizedCaseInsensitiveContains("warning"), "\(result.output)")
        #expect(!result.output.localizedCaseInsensitiveContains("error"), "\(result.output)")
        let seconds = Double(speech.count) / 8000
        let expected = String(format: "Playback length: %dm:%06.3fs", Int(seconds) / 60, seconds.truncatingRemainder(dividingBy: 60))
        #expect(result.output.contains(expected), "\(result.output)")
        #expect(result.output.contains("Original sample rate: 8000 Hz"))
    }

    @Test func decodedAudioHasTheExactLengthAndFollowsTheInput() throws {
        let speech = ALSAFixture.shared.speech[0]
        let path = try encode(speech, name: "decode")
        let decoded = try Tool.opusdec(path)
        #expect(decoded.count == speech.count, "pre-skip and end trimming give back exactly the captured samples")
        let (correlation, lag) = Signal.bestCorrelation(speech, decoded)
        #expect(lag == 0, "no time shift after pre-skip")
        #expect(correlation > 0.85, "correlation \(correlation)")
    }

    @Test func aStreamShorterThanOneFrameStillEndsCleanly() throws {
        let path = try encode([100, -100, 50], name: "tiny")
        let decoded = try Tool.opusdec(path)
        #expect(decoded.count == 3)
        #expect(try Tool.run("opusinfo", [path]).status == 0)
    }

    @Test func aCorruptedPageIsReportedWithItsOffset() throws {
        let path = try encode(ALSAFixture.shared.speech[0], name: "corrupt")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let pages = try OggReader.pages(in: original)
        var bytes = original
        let victim = pages[4]
        bytes[victim.offset + 40] ^= 0x10
        #expect {
            try OggReader.pages(in: bytes)
        } throws: { error in
            guard case .checksumMismatch(let offset, _, _) = error as? OggParseError else { return false }
            return offset == victim.offset
        }
        #expect(throws: OggParseError.truncatedPage(offset: pages.last!.offset)) {
            try OggReader.pages(in: Array(original[0..<original.count - 3]))
        }
    }

    @Test func packetsOfAnyLengthSurviveLacing() throws {
        var builder = OggPageBuilder(serialNumber: 9)
        let lengths = [0, 1, 254, 255, 256, 510, 1275]
        for (index, length) in lengths.enumerated() {
            let packet = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ index) }
            packet.withUnsafeBytes { builder.append(packet: $0, granulePosition: Int64(index)) }
        }
        let page = builder.finishPage(endOfStream: true) { Array($0) }
        let parsed = try OggReader.pages(in: page)
        #expect(parsed.count == 1)
        #expect(OggReader.packets(in: parsed).map(\.count) == lengths)
        #expect(parsed[0].granulePosition == 6 && parsed[0].isBeginningOfStream && parsed[0].isEndOfStream)
    }
}
