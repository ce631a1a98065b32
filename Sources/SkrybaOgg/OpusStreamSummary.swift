/// What RFC 7845 says an Ogg Opus stream is, checked on parsed pages: header packets, their pages,
/// flags, and the length the granule positions give.
public struct OpusStreamSummary: Equatable, Sendable {
    public var preSkip: Int
    public var inputSampleRate: Int
    public var vendor: String
    public var comments: [String]
    public var finalGranule: Int64
    public var audioPackets: Int
    /// Playable length: final granule − pre-skip, at 48 kHz.
    public var durationSeconds: Double { Double(finalGranule - Int64(preSkip)) / 48000 }

    public init(pages: [OggPage], packets: [[UInt8]]) throws(OpusStreamError) {
        guard pages.count >= 3, packets.count >= 3 else { throw .tooShort }
        guard pages[0].isBeginningOfStream, pages.dropFirst().allSatisfy({ !$0.isBeginningOfStream }) else { throw .beginningOfStream }
        guard pages.last!.isEndOfStream, pages.dropLast().allSatisfy({ !$0.isEndOfStream }) else { throw .endOfStream }
        let head = packets[0]
        guard head.count >= 19, head[0..<8].elementsEqual("OpusHead".utf8), head[8] == 1 else { throw .badIdentificationHeader }
        guard pages[0].segments.count == 1 else { throw .identificationNotAlone }
        preSkip = Int(head[10]) | Int(head[11]) << 8
        inputSampleRate = (0..<4).reduce(0) { $0 | Int(head[12 + $1]) << (8 * $1) }
        let tags = packets[1]
        guard tags.count >= 16, tags[0..<8].elementsEqual("OpusTags".utf8) else { throw .badCommentHeader }
        var cursor = 8
        func u32() throws(OpusStreamError) -> Int {
            guard cursor + 4 <= tags.count else { throw .badCommentHeader }
            defer { cursor += 4 }
            return (0..<4).reduce(0) { $0 | Int(tags[cursor + $1]) << (8 * $1) }
        }
        func string(_ length: Int) throws(OpusStreamError) -> String {
            guard cursor + length <= tags.count else { throw .badCommentHeader }
            defer { cursor += length }
            return String(decoding: tags[cursor..<cursor + length], as: UTF8.self)
        }
        vendor = try string(try u32())
        let count = try u32()
        comments = []
        for _ in 0..<count { comments.append(try string(try u32())) }
        // The comment header must end its page; audio starts on a fresh page (RFC 7845 §3).
        guard pages[1].granulePosition == 0, pages[2].granulePosition != 0 || pages.count == 3 else { throw .commentNotOnOwnPage }
        var previous: Int64 = 0
        for page in pages.dropFirst(2) {
            guard page.granulePosition >= previous else { throw .granuleDecreases(sequence: page.sequenceNumber) }
            previous = page.granulePosition
        }
        finalGranule = pages.last!.granulePosition
        audioPackets = packets.count - 2
    }

    /// The value of the first `KEY=value` comment with this key (case-insensitive key).
    public func comment(_ key: String) -> String? {
        let prefix = key.uppercased() + "="
        return comments.first { $0.uppercased().hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }
}

public enum OpusStreamError: Error, Equatable, CustomStringConvertible {
    case tooShort, beginningOfStream, endOfStream, badIdentificationHeader, identificationNotAlone, badCommentHeader
    case commentNotOnOwnPage
    case granuleDecreases(sequence: UInt32)

    public var description: String {
        switch self {
        case .tooShort: "not an Ogg Opus stream: fewer than three pages/packets"
        case .beginningOfStream: "only the first page may (and must) carry the beginning-of-stream flag"
        case .endOfStream: "only the last page may (and must) carry the end-of-stream flag (the recording was not closed)"
        case .badIdentificationHeader: "the first packet is not an OpusHead version 1 header"
        case .identificationNotAlone: "the OpusHead packet must be alone on the first page"
        case .badCommentHeader: "the second packet is not a well-formed OpusTags header"
        case .commentNotOnOwnPage: "audio data shares a page with the OpusTags header"
        case .granuleDecreases(let sequence): "page \(sequence): the granule position goes backwards"
        }
    }
}
