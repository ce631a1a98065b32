#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads just enough of a WAV file to say whether it can be played into a line: 16-bit PCM, mono,
/// at the audio rate, with some audio. (The player lives in SkrybaPipeline; this check must not
/// depend on it.)
enum WAVHeaderCheck {
    struct Format: Equatable {
        var encoding: UInt16
        var channels: Int
        var rate: Int
        var bitsPerSample: Int
        var dataBytes: Int
    }

    /// nil when the file is usable; otherwise one sentence naming the file.
    static func problem(path: String, rate: Int?) -> String? {
        let format: Format
        switch readFormat(path: path) {
        case .failure(let message): return message
        case .success(let found): format = found
        }
        let wanted = "16-bit PCM mono\(rate.map { " at \($0) Hz" } ?? "")"
        let fits = format.encoding == 1 && format.bitsPerSample == 16 && format.channels == 1 && (rate == nil || format.rate == rate)
        if !fits {
            let encoding = switch format.encoding {
            case 1: "\(format.bitsPerSample)-bit PCM"
            case 3: "\(format.bitsPerSample)-bit float"
            case 6: "A-law"
            case 7: "µ-law"
            default: "encoding \(format.encoding)"
            }
            let channels = format.channels == 1 ? "mono" : format.channels == 2 ? "stereo" : "\(format.channels) channels"
            return "'\(path)' is \(encoding) \(channels) at \(format.rate) Hz; it must be \(wanted) "
                + "(convert with: sox IN -r \(rate ?? 8000) -c 1 -b 16 -e signed-integer OUT.wav)"
        }
        if format.dataBytes < 2 { return "'\(path)' holds no audio (its data chunk is empty)" }
        return nil
    }

    enum Outcome {
        case success(Format)
        case failure(String)
    }

    static func readFormat(path: String) -> Outcome {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure("'\(path)' cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .failure("'\(path)' cannot be read: \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { return .failure("'\(path)' is not a regular file") }
        let size = Int(status.st_size)

        func read(at offset: Int, count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }

        guard let riff = read(at: 0, count: 12), riff[0..<4].elementsEqual("RIFF".utf8), riff[8..<12].elementsEqual("WAVE".utf8) else {
            return .failure("'\(path)' is not a WAV file (no RIFF/WAVE header)")
        }
        var offset = 12
        var format: Format?
        var chunks = 0
        while offset + 8 <= size, chunks < 64 {
            chunks += 1
            guard let header = read(at: offset, count: 8) else { break }
            let id = String(decoding: header[0..<4], as: UTF8.self)
            let chunkSize = u32(header, 4)
            if id == "fmt " {
                guard chunkSize >= 16, let body = read(at: offset + 8, count: min(chunkSize, 40)) else {
                    return .failure("'\(path)' is a damaged WAV file (its fmt chunk is too short)")
                }
                var encoding = UInt16(u16(body, 0))
                if encoding == 0xFFFE, body.count >= 26 { encoding = UInt16(u16(body, 24)) }  // WAVE_FORMAT_EXTENSIBLE
                format = Format(encoding: encoding, channels: u16(body, 2), rate: u32(body, 4), bitsPerSample: u16(body, 14), dataBytes: 0)
            } else if id == "data" {
                guard var found = format else { return .failure("'\(path)' is a damaged WAV file (data comes before fmt)") }
                found.dataBytes = min(chunkSize, size - offset - 8)
                return .success(found)
            }
            offset += 8 + chunkSize + (chunkSize & 1)
        }
        return .failure(format == nil ? "'\(path)' is a damaged WAV file (no fmt chunk)" : "'\(path)' is a damaged WAV file (no data chunk)")
    }

    /// nil when `path` is a readable regular file; otherwise why not.
    static func readableFileProblem(path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "'\(path)' cannot be read: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return "'\(path)' cannot be read: \(String(cString: strerror(errno)))" }
        return status.st_mode & S_IFMT == S_IFREG ? nil : "'\(path)' is not a regular file"
    }
}
