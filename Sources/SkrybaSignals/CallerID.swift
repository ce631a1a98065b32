/// A caller identity as the exchange sent it, placed on the sample clock.
public struct CallerID: Equatable, Sendable {
    public enum Format: String, Sendable { case fskSDMF = "fsk-sdmf", fskMDMF = "fsk-mdmf", dtmf }

    public var number: String?
    public var name: String?
    /// "MMDDHHMM" exactly as sent (the exchange's local time; no year).
    public var dateTime: String?
    /// Why the number is missing: "unavailable" or "private".
    public var absenceReason: String?
    public var format: Format
    /// The first frame of the signal (FSK: the carrier, i.e. the channel seizure; DTMF: the start digit).
    public var startFrame: UInt64
    /// The first frame after it (FSK: after the checksum's stop bit; DTMF: after the end digit).
    public var endFrame: UInt64

    public init(
        number: String? = nil, name: String? = nil, dateTime: String? = nil, absenceReason: String? = nil,
        format: Format, startFrame: UInt64, endFrame: UInt64
    ) {
        self.number = number
        self.name = name
        self.dateTime = dateTime
        self.absenceReason = absenceReason
        self.format = format
        self.startFrame = startFrame
        self.endFrame = endFrame
    }

    static let unavailable = "unavailable"
    static let `private` = "private"

    /// The presentation-layer message of ETSI EN 300 659-3 / Bellcore GR-30: type, length, body,
    /// checksum (bytes sum to 0 mod 256). Returns nil for anything malformed; never traps.
    static func parse(message bytes: [UInt8], startFrame: UInt64, endFrame: UInt64) -> CallerID? {
        guard bytes.count >= 3, Int(bytes[1]) == bytes.count - 3 else { return nil }
        guard bytes.reduce(0, { $0 &+ $1 }) == 0 else { return nil }
        let body = bytes[2..<bytes.count - 1]
        switch bytes[0] {
        case 0x04:  // SDMF: MMDDHHMM then the number, or 'O'/'P' for its absence.
            guard body.count >= 9, let date = text(body.prefix(8)), date.allSatisfy(\.isASCIIDigit) else { return nil }
            var id = CallerID(dateTime: date, format: .fskSDMF, startFrame: startFrame, endFrame: endFrame)
            let rest = body.dropFirst(8)
            if rest.count == 1, let reason = absence(rest.first!) {
                id.absenceReason = reason
            } else {
                guard let number = text(rest) else { return nil }
                id.number = number
            }
            return id
        case 0x80:  // MDMF call set-up: parameters of type, length, value.
            var id = CallerID(format: .fskMDMF, startFrame: startFrame, endFrame: endFrame)
            var index = body.startIndex
            while index < body.endIndex {
                guard index + 1 < body.endIndex else { return nil }
                let type = body[index], length = Int(body[index + 1])
                let valueStart = index + 2
                guard valueStart + length <= body.endIndex else { return nil }
                let value = body[valueStart..<valueStart + length]
                switch type {
                case 0x01:
                    guard length == 8, let date = text(value), date.allSatisfy(\.isASCIIDigit) else { return nil }
                    id.dateTime = date
                case 0x02:
                    guard let number = text(value) else { return nil }
                    id.number = number.isEmpty ? nil : number
                case 0x04:
                    guard length == 1, let reason = absence(value.first!) else { return nil }
                    id.absenceReason = reason
                case 0x07:
                    guard let name = text(value, latin1: true) else { return nil }
                    id.name = name.isEmpty ? nil : name
                default:
                    break  // 0x03 called number, 0x08 name absence, 0x11 call type…: not kept.
                }
                index = valueStart + length
            }
            return id
        default:
            return nil
        }
    }

    static func absence(_ byte: UInt8) -> String? {
        switch byte {
        case UInt8(ascii: "O"): unavailable
        case UInt8(ascii: "P"): `private`
        default: nil
        }
    }

    /// Printable characters only: a control byte means a corrupted or foreign message.
    /// Names may carry Latin-1 letters (some exchanges send them); numbers are plain ASCII.
    static func text(_ bytes: ArraySlice<UInt8>, latin1: Bool = false) -> String? {
        var result = ""
        for byte in bytes {
            guard (0x20...0x7E).contains(byte) || (latin1 && byte >= 0xA0) else { return nil }
            result.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return result
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// DTMF caller ID (ETSI EN 300 659-1 annex B and national variants), sent before the first ring.
///
/// A message is a start key, fields, and an end key `C` or `#`:
/// - `A<digits>`: the calling number.
/// - `B<code>`: the number is absent: `00` unavailable, `10` private (presentation restricted).
/// - `D<one digit>`: the number is absent: `1` private, `2` unavailable (international call),
///   `3` unavailable (technical reasons) — the Danish/Dutch "D…#" convention.
/// - `D<two or more digits>`: the calling number when no `A` field came (Taiwan, Kuwait);
///   otherwise a diverting number, which is not kept.
/// A `*`, a digit outside a message, more than 32 digits, or a gap of more than 16,000 frames
/// between keys abandons the message.
public struct DTMFCallerIDParser: Sendable {
    static let maximumGap: UInt64 = 16_000
    static let maximumDigits = 32

    var start: UInt64?
    var lastEnd: UInt64 = 0
    var fieldKey: Character = "A"
    var fieldDigits = ""
    var fields: [(key: Character, digits: String)] = []
    var digitCount = 0

    public init() {}

    public mutating func feed(_ digit: DTMFDigit) -> CallerID? {
        if start != nil, digit.startFrame > lastEnd + Self.maximumGap { reset() }
        lastEnd = digit.endFrame
        switch digit.key {
        case "A":
            reset()
            begin(digit)
        case "B", "D":
            if start == nil { begin(digit) } else { closeField() }
            fieldKey = digit.key
        case "0"..."9":
            guard start != nil else { return nil }
            digitCount += 1
            if digitCount > Self.maximumDigits { reset() } else { fieldDigits.append(digit.key) }
        case "C", "#":
            guard let first = start else { return nil }
            closeField()
            let id = result(startFrame: first, endFrame: digit.endFrame)
            reset()
            return id
        default:
            reset()
        }
        return nil
    }

    mutating func begin(_ digit: DTMFDigit) {
        start = digit.startFrame
        fieldKey = digit.key
        fieldDigits = ""
    }

    mutating func closeField() {
        fields.append((fieldKey, fieldDigits))
        fieldDigits = ""
    }

    mutating func reset() {
        start = nil
        fields.removeAll()
        fieldDigits = ""
        digitCount = 0
    }

    func result(startFrame: UInt64, endFrame: UInt64) -> CallerID? {
        var id = CallerID(format: .dtmf, startFrame: startFrame, endFrame: endFrame)
        let hasA = fields.contains { $0.key == "A" }
        for (key, digits) in fields {
            switch (key, digits) {
            case ("A", _) where !digits.isEmpty: id.number = digits
            case ("B", "00"), ("D", "2"), ("D", "3"): id.absenceReason = CallerID.unavailable
            case ("B", "10"), ("D", "1"): id.absenceReason = CallerID.private
            case ("D", _) where digits.count >= 2 && !hasA: id.number = digits
            default: break
            }
        }
        return id.number == nil && id.absenceReason == nil ? nil : id
    }
}
