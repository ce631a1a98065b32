import SkrybaConfig

/// Every sentence the console says, one conforming type per language (Strings/Polish.swift,
/// Strings/English.swift): a translator works on one file, and the compiler refuses a catalog that
/// misses a sentence. Command words (`status`, `line`, `set retention`) and configuration keys stay
/// English in every language, as the file and docs/console.md spell them.
public protocol ConsoleStrings: Sendable {
    var code: String { get }
    var yes: String { get }
    var no: String { get }
    var none: String { get }

    func banner(_ version: String, _ user: String) -> String
    func notConfiguredNotice(_ path: String) -> String
    func notConfiguredShort(_ path: String) -> String
    func configurationHasProblems(_ path: String) -> String
    func configurationLine(_ path: String, _ recorderID: String) -> String
    func unknownCommand(_ name: String, _ commands: String) -> String
    func cannotReadFile(_ path: String) -> String

    // help
    var helpIntro: String { get }
    var helpOutro: String { get }
    var helpStatus: String { get }
    var helpStatusDetails: String { get }
    var helpLines: String { get }
    var helpLinesDetails: String { get }
    var helpLine: String { get }
    var helpLineDetails: String { get }
    var helpSet: String { get }
    var helpSetDetails: String { get }
    var helpAnnouncement: String { get }
    var helpAnnouncementDetails: String { get }
    var helpLevels: String { get }
    var helpLevelsDetails: String { get }
    var helpAlarms: String { get }
    var helpAlarmsDetails: String { get }
    var helpLog: String { get }
    var helpLogDetails: String { get }
    var helpRecipients: String { get }
    var helpRecipientsDetails: String { get }
    var helpTime: String { get }
    var helpTimeDetails: String { get }
    var helpSetup: String { get }
    var helpSetupDetails: String { get }
    var helpReboot: String { get }
    var helpRebootDetails: String { get }
    var helpHelp: String { get }
    var helpHelpDetails: String { get }
    var helpExit: String { get }
    var helpExitDetails: String { get }

    // changes
    func changeRefused(_ why: String) -> String
    var changeInvalid: String { get }
    func unchanged(_ key: String, _ value: String) -> String
    func cannotPreview(_ why: String) -> String
    func retentionWouldDelete(_ count: Int) -> String
    var nothingChanged: String { get }
    func cannotWrite(_ path: String, _ why: String) -> String
    func auditFailed(_ why: String) -> String
    func changed(_ key: String, _ from: String, _ to: String) -> String
    func changedAuditedAtStart(_ key: String, _ from: String, _ to: String) -> String
    func applied(_ applied: [String], _ needsRestart: [String]) -> String
    func appliesAtStart(_ why: String) -> String
    func notApplied(_ why: String) -> String

    // status
    func statusTitle(_ version: String) -> String
    var daemonRunning: String { get }
    func daemonNotRunning(_ why: String) -> String
    var linesHeading: String { get }
    func callInProgress(_ direction: String, _ seconds: Int) -> String
    func lineState(_ state: String) -> String
    func callsInProgress(_ count: Int) -> String
    var stateUnknown: String { get }
    var callsUnknown: String { get }
    var noLines: String { get }
    func storage(_ used: String, _ free: String, _ days: String) -> String
    func daysLeft(_ days: Double) -> String
    var daysLeftUnknown: String { get }
    var storageUnknown: String { get }
    func clock(_ time: String, _ state: String) -> String
    var synchronised: String { get }
    var notSynchronised: String { get }
    var noAlarms: String { get }
    func activeAlarms(_ count: Int) -> String
    var alarmsUnknown: String { get }
    func fingerprint(_ value: String) -> String
    func version(_ value: String) -> String
    func unknownBecause(_ why: String) -> String

    // lines
    func direction(_ raw: String) -> String
    func consent(_ consent: LineConfiguration.Consent) -> String
    var lineUsage: String { get }
    func notALineNumber(_ text: String) -> String
    func noSuchLine(_ id: Int, _ configured: String) -> String
    func notADirection(_ word: String) -> String
    var consentUsage: String { get }
    func unknownLineField(_ field: String) -> String
    func lineTitle(_ id: Int, _ name: String) -> String
    func channels(_ capture: Int, _ playback: Int) -> String
    func records(_ directions: String) -> String
    func announcementLine(_ text: String) -> String
    func consentLine(_ text: String) -> String
    func pins(_ ring: String, _ hook: String) -> String

    // set, recipients
    var setUsage: String { get }
    func notARetention(_ value: String) -> String
    func notALanguage(_ value: String) -> String
    func unknownSetting(_ name: String) -> String
    func recipientsHeading(_ count: Int) -> String
    var recipientsUsage: String { get }
    func notARecipient(_ why: String) -> String
    var recipientAlreadyThere: String { get }
    func noSuchRecipient(_ text: String, _ count: Int) -> String

    // announcement, levels, alarms, log, time, reboot
    var announcementUsage: String { get }
    func noAnnouncement(_ line: Int) -> String
    func playedByDaemon(_ line: Int, _ announcementID: String, _ seconds: Double, _ channel: Int) -> String
    func notPlayed(_ why: String) -> String
    func playedHere(_ file: String, _ seconds: Double, _ pcm: String, _ channel: Int) -> String
    var levelsHint: String { get }
    var alarmHistory: String { get }
    func onLine(_ line: Int) -> String
    func raised(_ time: String) -> String
    func cleared(_ time: String) -> String
    var logUsage: String { get }
    func noCatalog(_ directory: String) -> String
    func cannotReadLog(_ directory: String, _ why: String) -> String
    func logHeading(_ count: Int) -> String
    func timeReport(_ local: String, _ utc: String, _ state: String, _ reason: String) -> String
    var rebootQuestion: String { get }
    var notRebooted: String { get }
    var rebooting: String { get }
    func rebootFailed(_ why: String) -> String

    // first setup
    func setupReplaces(_ path: String) -> String
    var setupIntro: String { get }
    var askLanguage: String { get }
    func profilesAvailable(_ names: String) -> String
    var askBoard: String { get }
    func noProfiles(_ directory: String) -> String
    func askLineCount(_ most: Int) -> String
    func askLineName(_ id: Int) -> String
    func defaultLineName(_ id: Int) -> String
    var askDirections: String { get }
    var askAnnouncement: String { get }
    var recipientsIntro: String { get }
    func askRecipient(_ number: Int) -> String
    var recipientRequired: String { get }
    var askRetention: String { get }
    var setupInvalid: String { get }
    func setupDone(_ path: String, _ lines: Int) -> String
    func setupDoneAuditedAtStart(_ path: String, _ lines: Int) -> String
    func answerNotUnderstood(_ answer: String) -> String
}

public enum Strings {
    public static func `for`(_ language: SkrybaConfiguration.Language) -> any ConsoleStrings {
        switch language {
        case .polish: Polish()
        case .english: English()
        }
    }
}
