import Testing
import SkrybaOpus
@testable import SkrybaPipeline

/// Plaintext awaiting consent sits in buffers of fixed capacity, allocated with the sink: pages never
/// move it (no reallocation leaves a copy behind), and discarding wipes it where it lies.
@Suite struct DeferredSealedSinkTests {
    /// An Ogg-like page of `count` bytes whose granule (bytes 6…13) is `granule`.
    static func page(_ count: Int, fill: UInt8, granule: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: fill, count: count)
        withUnsafeBytes(of: granule.littleEndian) { for (index, byte) in $0.enumerated() { bytes[6 + index] = byte } }
        return bytes
    }

    @Test func discardWipesTheFixedBufferInPlace() throws {
        var sink = DeferredSealedSink(capacity: .awaitingConsent(frames: 10 * 8000, rate: 8000, bitrate: OpusSettings.defaultBitrate, flushFrames: 8000))
        let before = sink.storage.buffers.plaintext.baseAddress
        // Ten seconds of pages, a flush interval at a time.
        for second in 0..<10 {
            for packet in 0..<5 {
                try Self.page(400, fill: 0xA5, granule: UInt64(second * 8000 + packet * 1600)).withUnsafeBytes { try sink.write(page: $0) }
            }
            try sink.flush(isFinal: false)
        }
        let held = sink.storage.buffers
        #expect(held.plaintext.baseAddress == before, "the plaintext never moved")
        #expect(held.used == 10 * 5 * 400)
        #expect(held.plaintext[0..<held.used].filter { $0 == 0xA5 }.count == 10 * 5 * (400 - 8))
        sink.storage.discard()
        #expect(sink.storage.isDiscarded)
        #expect(held.plaintext[0..<held.used].allSatisfy { $0 == 0 }, "wiped where it lay")
    }

    @Test func audioOutgrowingTheBufferIsAnErrorThatSaysSo() throws {
        var sink = DeferredSealedSink(capacity: DeferredSealedSink.Capacity(bytes: 1000, groups: 4, recordBytes: 1000))
        try Self.page(600, fill: 1, granule: 0).withUnsafeBytes { try sink.write(page: $0) }
        #expect(throws: DeferredSealedSink.Overflow.self) {
            try Self.page(600, fill: 1, granule: 1600).withUnsafeBytes { try sink.write(page: $0) }
        }
        #expect(DeferredSealedSink.Overflow(capacity: 1000).description
                == "the audio awaiting the caller's consent outgrew its 1000-byte buffer; the call is not recorded further")
    }
}
