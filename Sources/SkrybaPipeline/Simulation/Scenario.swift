import Foundation
import SkrybaCore

/// A simulated office: lines and, at given times, calls with their rings, caller ID, speech, key
/// presses and hang-ups. `ScenarioRenderer` turns it into what the appliance's hardware would
/// deliver: a multichannel capture stream, ring/hook edges, and a configuration.
public struct Scenario: Sendable {
    public struct Line: Sendable {
        public var id: Int
        public var name: String
        public var record: Set<CallDirection>
        /// "continue" or "opt-out-key".
        public var consent: String
        public var optOutKey: Character?
        public var outgoingBeep: Bool
        /// The tap on this line is disconnected: its channel is digital silence (alarm tests).
        public var deadChannel = false

        public init(id: Int, name: String, record: Set<CallDirection> = [.incoming, .outgoing], consent: String = "continue",
                    optOutKey: Character? = nil, outgoingBeep: Bool = false) {
            self.id = id
            self.name = name
            self.record = record
            self.consent = consent
            self.optOutKey = optOutKey
            self.outgoingBeep = outgoingBeep
        }
    }

    public struct Call: Sendable {
        public var line: Int
        public var direction: CallDirection
        /// Seconds from the start: the first ring (incoming) or the off-hook (outgoing).
        public var at: Double
        /// Incoming: answered after this many ring bursts; 0 rings = never answered.
        public var rings: Int
        public var callerID: String?
        public var callerIDFormat: SignalSynthesis.CallerIDFormat
        /// Caller ID sent before the first ring (after the line's polarity reversal, ETSI EN 300 659-1),
        /// as DTMF CLIP usually is: `at` is then when the caller ID starts, and the first ring comes
        /// half a second after it ends. Otherwise it comes in the first silence between rings.
        public var callerIDBeforeRing = false
        /// Outgoing: the number dialled.
        public var dial: String?
        /// What is said on the line after the announcement (espeak-ng, Polish voice by default).
        public var talk: [String]
        public var voice: String
        /// Keys pressed, seconds after off-hook.
        public var presses: [(key: Character, after: Double)]
        /// Seconds after off-hook.
        public var hangUpAfter: Double

        public init(line: Int, direction: CallDirection, at: Double, rings: Int = 2, callerID: String? = nil,
                    callerIDFormat: SignalSynthesis.CallerIDFormat = .fskMDMF, dial: String? = nil, talk: [String] = [],
                    voice: String = "pl", presses: [(key: Character, after: Double)] = [], hangUpAfter: Double) {
            self.line = line
            self.direction = direction
            self.at = at
            self.rings = rings
            self.callerID = callerID
            self.callerIDFormat = callerIDFormat
            self.dial = dial
            self.talk = talk
            self.voice = voice
            self.presses = presses
            self.hangUpAfter = hangUpAfter
        }
    }

    public var rate = 8000
    public var announcement: String
    public var lines: [Line]
    public var calls: [Call]
    /// Quiet seconds after the last call.
    public var tailSeconds = 2.0

    public init(announcement: String, lines: [Line], calls: [Call]) {
        self.announcement = announcement
        self.lines = lines
        self.calls = calls
    }

    /// The embedded default: a small town hall's morning on four lines (README's main job): an
    /// incoming call with FSK caller ID, an outgoing call with dialled digits and a beep, a caller
    /// who hangs up during the announcement, a caller who objects by key, a call with DTMF caller ID.
    public static let office = Scenario(
        announcement: "Dzień dobry, tu Urząd Gminy. Informujemy, że rozmowy są nagrywane w celu zapewnienia jakości obsługi.",
        lines: [
            Line(id: 1, name: "Sekretariat", consent: "continue"),
            Line(id: 2, name: "Pomoc społeczna", record: [.incoming], consent: "opt-out-key", optOutKey: "9"),
            Line(id: 3, name: "Ewidencja ludności", outgoingBeep: true),
            Line(id: 4, name: "Podatki"),
        ],
        calls: [
            Call(line: 1, direction: .incoming, at: 0.5, rings: 2, callerID: "221234567", callerIDFormat: .fskMDMF,
                 talk: ["Dzień dobry, dzwonię w sprawie wymiany dowodu osobistego. Jakie dokumenty są potrzebne?"], hangUpAfter: 16),
            Call(line: 3, direction: .outgoing, at: 2, dial: "600700800",
                 talk: ["Dzień dobry, tu urząd gminy, oddzwaniam w sprawie pańskiego wniosku."], hangUpAfter: 12),
            Call(line: 4, direction: .incoming, at: 3, rings: 1, callerID: "587654321", callerIDFormat: .dtmf, hangUpAfter: 3),
            Call(line: 2, direction: .incoming, at: 4, rings: 2, callerID: "123456789", callerIDFormat: .fskSDMF,
                 talk: ["Nie zgadzam się na nagrywanie tej rozmowy."], presses: [(key: "9", after: 3.0)], hangUpAfter: 14),
            Call(line: 4, direction: .incoming, at: 14, rings: 2, callerID: "587654321", callerIDFormat: .dtmf,
                 talk: ["Chciałbym zapytać o termin płatności podatku od nieruchomości."], hangUpAfter: 15),
        ])
}

/// What a scenario may ask for: every number bounded, so nothing in it can overflow or fill the disk.
/// docs/simulation.md lists them.
public enum ScenarioLimits {
    public static let rates = [8000, 16000]
    public static let lineIDs = 1...999
    public static let maximumLines = LineLayout.maximumChannels
    /// `at`, `hang_up_after`, a press's `after`, the quiet tail: seconds within one day.
    public static let seconds = 0.0...86_400.0
    public static let rings = 0...20
    /// Caller ID: digits (and '+') as a CLIP message carries them.
    public static let callerIDLength = 1...20
    public static let dialLength = 1...32
    public static let telephoneKeys = Set("0123456789*#ABCD")
    /// The rendered capture stream (skrybad writes a playback stream of the same size beside it).
    public static let maximumCaptureBytes = 256 << 20
}

public struct ScenarioError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
