import Foundation

/// A problem with a bundle's tar structure or contents, in a sentence.
public struct BundleProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes a POSIX tar stream (ustar headers, pax extended headers for long names or sizes ustar cannot
/// hold), regular files only, to `sink` as it goes: nothing is buffered beyond one 512-byte block.
public struct TarWriter {
    public static let blockSize = 512
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    public private(set) var bytesWritten: UInt64 = 0
    private var pendingPadding = 0

    public init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.sink = sink }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink(bytes)
        bytesWritten += UInt64(bytes.count)
    }

    private mutating func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try emit($0) } }

    /// Starts a regular file member of `size` bytes; its content follows with `content`, then the
    /// next `beginFile` or `finish` pads it to the block size.
    public mutating func beginFile(name: String, size: UInt64, modificationTime: Date, mode: UInt32 = 0o600) throws {
        try padPrevious()
        let nameBytes = Array(name.utf8)
        let maximumSize: UInt64 = 0o77777777777
        if nameBytes.count > 100 || size > maximumSize {
            var records = ""
            if nameBytes.count > 100 { records += Self.paxRecord("path", name) }
            if size > maximumSize { records += Self.paxRecord("size", String(size)) }
            let body = Array(records.utf8)
            try emit(Self.header(name: Array("PaxHeader/\(name.suffix(80))".utf8).prefix(100).map { $0 }, size: UInt64(body.count),
                                 mtime: modificationTime, mode: 0o600, type: UInt8(ascii: "x")))
            try emit(body)
            try emit([UInt8](repeating: 0, count: Self.padding(UInt64(body.count))))
        }
        try emit(Self.header(name: Array(nameBytes.prefix(100)), size: min(size, maximumSize), mtime: modificationTime, mode: mode,
                             type: UInt8(ascii: "0")))
        pendingPadding = Self.padding(size)
    }

    public mutating func content(_ bytes: UnsafeRawBufferPointer) throws { try emit(bytes) }
    public mutating func content(_ bytes: [UInt8]) throws { try emit(bytes) }

    public mutating func file(name: String, bytes: [UInt8], modificationTime: Date) throws {
        try beginFile(name: name, size: UInt64(bytes.count), modificationTime: modificationTime)
        try content(bytes)
    }

    /// Pads the last member and writes the two zero blocks that end an archive.
    public mutating func finish() throws {
        try padPrevious()
        try emit([UInt8](repeating: 0, count: 2 * Self.blockSize))
    }

    private mutating func padPrevious() throws {
        if pendingPadding > 0 { try emit([UInt8](repeating: 0, count: pendingPadding)) }
        pendingPadding = 0
    }

    static func padding(_ size: UInt64) -> Int { Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize)) }

    /// "LEN key=value\n", LEN counting the whole record including its own digits (POSIX pax).
    static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length = String(length).count + body.utf8.count }
        return "\(length)\(body)"
    }

    static func octal(_ value: UInt64, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
    }

    static func header(name: [UInt8], size: UInt64, mtime: Date, mode: UInt32, type: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) { for (index, byte) in bytes.enumerated() { block[offset + index] = byte } }
        put(name, at: 0)
        put(octal(UInt64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(UInt64(max(0, mtime.timeIntervalSince1970)), width: 12), at: 136)
        block[156] = type
        put(Array("ustar\u{0}00".utf8), at: 257)
        put(Array("skryba".utf8), at: 265)
        put(Array("skryba".utf8), at: 297)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        let sum = block.reduce(0) { $0 + UInt64($1) }
        put(octal(sum, width: 7) + [UInt8(ascii: " ")], at: 148)
        return block
    }
}

/// Reads a tar stream member by member from a file descriptor, in fixed-size chunks.
public struct TarReader {
    public struct Member {
        public var name: String
        public var size: UInt64
    }

    private let handle: FileHandle
    private let path: String
    private var remaining: UInt64 = 0
    private var padding = 0

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BundleProblem("\(path): cannot open the bundle") }
        self.handle = handle
        self.path = path
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let chunk = try handle.read(upToCount: count - bytes.count), !chunk.isEmpty else { break }
            bytes += chunk
        }
        return bytes
    }

    /// The next regular member, or nil at the end of the archive.
    public mutating func next() throws -> Member? {
        while remaining > 0 { _ = try chunk() }
        if padding > 0 { _ = try read(padding) }
        padding = 0
        var paxPath: String?, paxSize: UInt64?
        while true {
            let block = try read(TarWriter.blockSize)
            guard block.count == TarWriter.blockSize else { throw BundleProblem("\(path): the bundle ends in the middle of a tar header (truncated)") }
            if block.allSatisfy({ $0 == 0 }) { return nil }
            let stored = Self.octal(block[148..<156])
            var copy = block
            for index in 148..<156 { copy[index] = UInt8(ascii: " ") }
            guard stored == copy.reduce(0, { $0 + UInt64($1) }) else { throw BundleProblem("\(path): a tar header's checksum does not match (the bundle is damaged)") }
            let name = Self.text(block[345..<500]).isEmpty ? Self.text(block[0..<100]) : Self.text(block[345..<500]) + "/" + Self.text(block[0..<100])
            let size = Self.octal(block[124..<136])
            switch block[156] {
            case UInt8(ascii: "x"):
                let body = try read(Int(size))
                _ = try read(TarWriter.padding(size))
                for record in String(decoding: body, as: UTF8.self).split(separator: "\n") {
                    guard let space = record.firstIndex(of: " "), let equals = record.firstIndex(of: "=") else { continue }
                    let key = record[record.index(after: space)..<equals], value = String(record[record.index(after: equals)...])
                    if key == "path" { paxPath = value }
                    if key == "size" { paxSize = UInt64(value) }
                }
            case UInt8(ascii: "0"), 0:
                let member = Member(name: paxPath ?? name, size: paxSize ?? size)
                remaining = member.size
                padding = TarWriter.padding(member.size)
                return member
            default:
                throw BundleProblem("\(path): member '\(paxPath ?? name)' is not a regular file; a Skryba bundle holds only files")
            }
        }
    }

    /// The next piece of the current member's content (at most 64 KiB), or nil when it is all read.
    public mutating func chunk() throws -> [UInt8]? {
        guard remaining > 0 else { return nil }
        let bytes = try read(Int(min(remaining, 65536)))
        guard !bytes.isEmpty else { throw BundleProblem("\(path): the bundle ends in the middle of a member (truncated)") }
        remaining -= UInt64(bytes.count)
        return bytes
    }

    /// The whole current member, refused beyond `limit` bytes.
    public mutating func contents(_ member: Member, limit: UInt64) throws -> [UInt8] {
        guard member.size <= limit else { throw BundleProblem("\(path): member \(member.name) is \(member.size) bytes, more than a bundle's \(limit)") }
        var bytes: [UInt8] = []
        while let piece = try chunk() { bytes += piece }
        return bytes
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func octal(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(into: UInt64(0)) { value, byte in if (48...55).contains(byte) { value = value * 8 + UInt64(byte - 48) } }
    }
}
