/// Where finished Ogg pages go: a plain file for now, the sealing writer later. Generic, so the
/// writer calls it statically.
public protocol OggPageSink {
    /// Takes one whole page. The bytes are valid only during the call.
    mutating func write(page: UnsafeRawBufferPointer) throws
    /// Called after a page that ends a flush interval: the sink makes everything so far durable
    /// (the sealing sink seals it as one record). `isFinal` marks the end of the stream.
    mutating func flush(isFinal: Bool) throws
    /// Bytes this sink has put on storage so far.
    var bytesWritten: Int { get }
}

/// Muxes Opus packets into an Ogg Opus stream (RFC 7845): ID header alone on the first page (BOS),
/// comment header on its own page, audio pages with 48 kHz granule positions, a page finished at
/// least every `packetsPerPage` packets (one second of 20 ms packets by default), EOS on the last
/// page with end trimming to the exact number of captured samples.
public struct OggOpusWriter<Sink: OggPageSink> {
    public private(set) var sink: Sink
    public let preSkip: Int
    public let inputSampleRate: Int
    public let packetsPerPage: Int
    private var pages: OggPageBuilder
    /// Samples at 48 kHz in all packets so far, pre-skip included (the running granule position).
    public private(set) var granulePosition: Int64
    public private(set) var packets = 0

    /// Writes both header pages immediately.
    /// - Parameters:
    ///   - preSkip: samples at 48 kHz (the encoder's lookahead × 48000 / rate).
    ///   - packetsPerPage: the flush interval in packets; 50 × 20 ms = 1 s.
    public init(sink: Sink, serialNumber: UInt32, preSkip: Int, inputSampleRate: Int, vendor: String,
                comments: [(key: String, value: String)], packetsPerPage: Int = 50) throws {
        precondition(packetsPerPage >= 1 && packetsPerPage <= 255)
        self.sink = sink
        self.preSkip = preSkip
        self.inputSampleRate = inputSampleRate
        self.packetsPerPage = packetsPerPage
        pages = OggPageBuilder(serialNumber: serialNumber)
        granulePosition = 0
        try appendPage(OpusHeaders.identification(preSkip: preSkip, inputSampleRate: inputSampleRate))
        try appendPage(OpusHeaders.comments(vendor: vendor, comments))
        try self.sink.flush(isFinal: false)
    }

    private mutating func appendPage(_ header: [UInt8]) throws {
        header.withUnsafeBytes { pages.append(packet: $0, granulePosition: 0) }
        try pages.finishPage(endOfStream: false) { try sink.write(page: $0) }
    }

    /// Adds one audio packet holding `samples48k` samples (960 for 20 ms). A full page is written
    /// when the next packet arrives, so the last page always has a packet to carry end trimming.
    public mutating func append(packet: UnsafeRawBufferPointer, samples48k: Int) throws {
        if pages.packetsOnPage >= packetsPerPage || !pages.canAppend(packetLength: packet.count) {
            try pages.finishPage(endOfStream: false) { try sink.write(page: $0) }
            try sink.flush(isFinal: false)
        }
        granulePosition += Int64(samples48k)
        pages.append(packet: packet, granulePosition: granulePosition)
        packets += 1
    }

    /// Ends the stream. `capturedSamples48k` is the real audio length at 48 kHz; the granule of the
    /// last page becomes pre-skip + that, so players drop the encoder's padding. The packets must
    /// already cover it (the caller flushed the encoder's lookahead with silence).
    public mutating func finish(capturedSamples48k: Int64) throws {
        let end = Int64(preSkip) + capturedSamples48k
        precondition(pages.packetsOnPage > 0, "the last page needs a packet: flush the encoder's lookahead first")
        precondition(end <= granulePosition, "end trimming can only shorten the stream")
        pages.setGranulePosition(end)
        try pages.finishPage(endOfStream: true) { try sink.write(page: $0) }
        try sink.flush(isFinal: true)
    }
}
