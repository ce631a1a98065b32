import Foundation
import SkrybaConfig

/// The console in English (`language = "en"`).
struct English: ConsoleStrings {
    let code = "en"
    let yes = "yes"
    let no = "no"
    let none = "none"

    func banner(_ version: String, _ user: String) -> String {
        "Skryba console \(version), logged in as \(user). Type help for the commands, help COMMAND or COMMAND ? for one."
    }
    func notConfiguredNotice(_ path: String) -> String {
        "This appliance is not configured: \(path) does not exist, so nothing is recorded. Type setup to configure it."
    }
    func notConfiguredShort(_ path: String) -> String { "Configuration: none (\(path) does not exist; type setup)" }
    func configurationHasProblems(_ path: String) -> String { "The configuration \(path) cannot be used; nothing is changed until it is fixed (setup writes a new one):" }
    func configurationLine(_ path: String, _ recorderID: String) -> String { "Configuration: \(path) (recorder \(recorderID))" }
    func unknownCommand(_ name: String, _ commands: String) -> String { "Unknown command '\(name)'. The commands are: \(commands). Type help for what each does." }
    func cannotReadFile(_ path: String) -> String { "Cannot read \(path)." }

    let helpIntro = "Commands:"
    let helpOutro = "Keys: left/right, Home/End, Backspace, ^U (erase line), ^W (erase word), up/down (history), Tab (complete)."
    let helpStatus = "the appliance at a glance"
    let helpStatusDetails = "Every line by its name with its state and live level, the calls in progress, storage used and free with the days of recording left, the clock, the alarms, the device key fingerprint and the version."
    let helpLines = "the configured lines"
    let helpLinesDetails = "Each line's number, name, the calls it records, its consent mode and its state now."
    let helpLine = "show or change one line"
    let helpLineDetails = """
        line 1                          shows line 1
        line 1 name "Biuro podawcze"    renames it
        line 1 record incoming,outgoing which calls it records (incoming, outgoing or both)
        line 1 announcement FILE        the WAV played before incoming calls (16-bit mono at the audio rate)
        line 1 consent continue         continuing after the announcement is consent
        line 1 consent opt-out-key 9    pressing 9 objects (0-9, *, #, A-D)
        Every change is checked like the file, written, audited and applied without dropping calls.
        """
    let helpSet = "change a setting"
    let helpSetDetails = """
        set retention 30d        keep recordings 30 days (1d to 3650d)
        set retention 6m         keep them 6 calendar months (1m to 120m)
        set retention capacity   keep them as long as the storage allows, the oldest deleted first
        set language pl|en       the console's language
        A retention change that would delete recordings says how many and asks first.
        """
    let helpAnnouncement = "play a line's announcement"
    let helpAnnouncementDetails = "announcement test N plays line N's announcement into its output, as callers hear it, while skrybad is stopped (it holds the playback device when it runs)."
    let helpLevels = "live level meters (nothing is stored)"
    let helpLevelsDetails = "Each line's level in dBFS, refreshed twice a second until a key is pressed: for checking the wiring."
    let helpAlarms = "active alarms and their history"
    let helpAlarmsDetails = "Every alarm raised, with when it was raised and, once over, cleared."
    let helpLog = "recent audit log entries"
    let helpLogDetails = "log shows the last 20 entries of the audit log, log N the last N (1 to 500). Recordings are named by id only: no numbers."
    let helpRecipients = "the keys recordings are sealed to"
    let helpRecipientsDetails = """
        recipients              lists them
        recipients add age1…    adds the organisation's public key (age-keygen -y prints it)
        recipients remove N     removes the Nth (or give the key); at least one must stay
        """
    let helpTime = "the clock"
    let helpTimeDetails = "Local time (Europe/Warsaw), UTC and whether the clock is synchronised (recordings on an unsynchronised clock are flagged)."
    let helpSetup = "first setup: write a new configuration"
    let helpSetupDetails = "Asks for the lines (how many, names, the board's GPIO pins), the calls to record, the announcement, the recipients and the retention, and writes a checked configuration from the commented template."
    let helpReboot = "restart the appliance"
    let helpRebootDetails = "Asks for confirmation, then restarts the appliance; calls in progress are finished and saved first."
    let helpHelp = "this list, or help COMMAND"
    let helpHelpDetails = "help lists the commands; help COMMAND, COMMAND ? and ? COMMAND explain one."
    let helpExit = "log out"
    let helpExitDetails = "Ends the session (^D on an empty line does too)."

    func changeRefused(_ why: String) -> String { "Not changed: \(why)" }
    let changeInvalid = "Not changed: the configuration would have these problems:"
    func unchanged(_ key: String, _ value: String) -> String { "\(key) is already \(value); nothing changed." }
    func cannotPreview(_ why: String) -> String { "Not changed: cannot work out what the new retention would delete (\(why))." }
    func retentionWouldDelete(_ count: Int) -> String { "\(count) recording(s) would be deleted at the next retention run. Change it?" }
    let nothingChanged = "Nothing changed."
    func cannotWrite(_ path: String, _ why: String) -> String { "Not changed: cannot write \(path) (\(why))." }
    func auditFailed(_ why: String) -> String { "ALARM: the file is changed but its audit entry could not be written (\(why))." }
    func changed(_ key: String, _ from: String, _ to: String) -> String { "\(key): \(from) → \(to). Saved and audited." }
    func changedAuditedAtStart(_ key: String, _ from: String, _ to: String) -> String { "\(key): \(from) → \(to). Saved; skrybad audits it when it starts." }
    func applied(_ applied: [String], _ needsRestart: [String]) -> String {
        (applied.isEmpty ? "skrybad re-read the file and audited the change" : "skrybad applied \(applied.joined(separator: ", ")) and audited the change")
            + (needsRestart.isEmpty ? "; calls in progress go on." : "; \(needsRestart.joined(separator: ", ")) take effect when skrybad restarts.")
    }
    func appliesAtStart(_ why: String) -> String { "skrybad is not running (\(why)); it applies the change when it starts." }
    func notApplied(_ why: String) -> String { "skrybad did not apply it (\(why)); the file is saved and applies at its next start." }

    func statusTitle(_ version: String) -> String { "Skryba \(version)" }
    let daemonRunning = "skrybad: running"
    func daemonNotRunning(_ why: String) -> String { "skrybad is not running (\(why))." }
    let linesHeading = "Lines:"
    func callInProgress(_ direction: String, _ seconds: Int) -> String { "\(direction) call, \(seconds) s" }
    func lineState(_ state: String) -> String { state }
    func callsInProgress(_ count: Int) -> String { "Calls in progress: \(count)" }
    let stateUnknown = "unknown"
    let callsUnknown = "Calls in progress: unknown"
    let noLines = "no lines configured"
    func storage(_ used: String, _ free: String, _ days: String) -> String { "Storage: \(used) used, \(free) free, \(days)" }
    func daysLeft(_ days: Double) -> String { String(format: "%.0f days of recording left", days) }
    let daysLeftUnknown = "days left unknown"
    let storageUnknown = "Storage: unknown"
    func clock(_ time: String, _ state: String) -> String { "Clock: \(time), \(state)" }
    let synchronised = "synchronised"
    let notSynchronised = "NOT synchronised"
    let noAlarms = "Alarms: none"
    func activeAlarms(_ count: Int) -> String { "Alarms: \(count) active" }
    let alarmsUnknown = "Alarms: unknown"
    func fingerprint(_ value: String) -> String { "Device key fingerprint: \(value)" }
    func version(_ value: String) -> String { "Version: \(value)" }
    func unknownBecause(_ why: String) -> String { "unknown (\(why))" }

    func direction(_ raw: String) -> String { raw }
    func consent(_ consent: LineConfiguration.Consent) -> String {
        switch consent {
        case .continueMeansConsent: "continue"
        case .optOutKey(let key): "opt-out-key \(key)"
        }
    }
    let lineUsage = "Usage: line N, or line N name TEXT | record incoming,outgoing | announcement FILE | consent continue | consent opt-out-key KEY"
    func notALineNumber(_ text: String) -> String { "'\(text)' is not a line number; give the number the lines command shows (e.g. line 1)." }
    func noSuchLine(_ id: Int, _ configured: String) -> String { "There is no line \(id); the configured lines are \(configured)." }
    func notADirection(_ word: String) -> String { "'\(word)' is not a call direction; give incoming, outgoing or both." }
    let consentUsage = "Usage: line N consent continue, or line N consent opt-out-key KEY (KEY one of 0-9, *, #, A-D)."
    func unknownLineField(_ field: String) -> String { "A line has no setting '\(field)'; give name, record, announcement or consent." }
    func lineTitle(_ id: Int, _ name: String) -> String { "Line \(id): \(name)" }
    func channels(_ capture: Int, _ playback: Int) -> String { "capture channel \(capture), playback channel \(playback)" }
    func records(_ directions: String) -> String { "records: \(directions) calls" }
    func announcementLine(_ text: String) -> String { "announcement: \(text)" }
    func consentLine(_ text: String) -> String { "consent: \(text)" }
    func pins(_ ring: String, _ hook: String) -> String { "ring: \(ring); hook: \(hook)" }

    let setUsage = "Usage: set retention VALUE (30d, 6m or capacity), or set language pl|en."
    func notARetention(_ value: String) -> String {
        "'\(value)' is not a retention period; give days like 30d (1d to 3650d), calendar months like 6m (1m to 120m), or capacity."
    }
    func notALanguage(_ value: String) -> String { "'\(value)' is not a language of the console; give pl (Polish) or en (English)." }
    func unknownSetting(_ name: String) -> String { "There is no setting '\(name)'; set takes retention or language." }
    func recipientsHeading(_ count: Int) -> String { "Recordings are sealed to \(count) recipient(s):" }
    let recipientsUsage = "Usage: recipients, recipients add age1…, or recipients remove N|age1…"
    func notARecipient(_ why: String) -> String { "Not a recipient: \(why)" }
    let recipientAlreadyThere = "That recipient is already configured; nothing changed."
    func noSuchRecipient(_ text: String, _ count: Int) -> String { "'\(text)' is not one of the \(count) recipient(s); give its number from recipients or the whole age1… key." }

    let announcementUsage = "Usage: announcement test N (N: the line's number)."
    func noAnnouncement(_ line: Int) -> String { "Line \(line) has no announcement (it records no incoming calls)." }
    func playedByDaemon(_ line: Int, _ announcementID: String, _ seconds: Double, _ channel: Int) -> String {
        "skrybad is playing line \(line)'s announcement \(announcementID) (\(String(format: "%.1f", seconds)) s) into its output, playback channel \(channel). The test is in the audit log; a call that starts meanwhile gets its own announcement."
    }
    func notPlayed(_ why: String) -> String { "The announcement was not played: \(why)" }
    func playedHere(_ file: String, _ seconds: Double, _ pcm: String, _ channel: Int) -> String {
        "Played \(file) (\(String(format: "%.1f", seconds)) s) on \(pcm) channel \(channel)."
    }
    let levelsHint = "Levels in dBFS (-60 to 0); press any key to stop."
    let alarmHistory = "History:"
    func onLine(_ line: Int) -> String { " on line \(line)" }
    func raised(_ time: String) -> String { "raised \(time)" }
    func cleared(_ time: String) -> String { "cleared \(time)" }
    let logUsage = "Usage: log, or log N with N from 1 to 500."
    func noCatalog(_ directory: String) -> String { "There is no catalog in \(directory) yet, so no audit log." }
    func cannotReadLog(_ directory: String, _ why: String) -> String { "Cannot read the audit log in \(directory) (\(why))." }
    func logHeading(_ count: Int) -> String { "Last \(count) audit entries (seq, time, kind, subject, by, details):" }
    func timeReport(_ local: String, _ utc: String, _ state: String, _ reason: String) -> String {
        "Local time: \(local)\nUTC:        \(utc)\nClock:      \(state) (\(reason))"
    }
    let rebootQuestion = "Restart the appliance now? Calls in progress are finished and saved first."
    let notRebooted = "Not restarted."
    let rebooting = "Restarting…"
    func rebootFailed(_ why: String) -> String { "The restart failed: \(why)" }

    func setupReplaces(_ path: String) -> String { "\(path) exists. Replace it with a new configuration? (the current one is kept as \(path).previous)" }
    let setupIntro = "First setup. Press Enter to take the answer in brackets."
    let askLanguage = "Language of the console (pl, en)"
    func profilesAvailable(_ names: String) -> String { "Board GPIO profiles: \(names)." }
    let askBoard = "Board"
    func noProfiles(_ directory: String) -> String { "No board GPIO profile (gpio-*.toml) in \(directory): lines get no ring/hook pins." }
    func askLineCount(_ most: Int) -> String { "How many lines are tapped (1 to \(most))" }
    func askLineName(_ id: Int) -> String { "Name of line \(id)" }
    func defaultLineName(_ id: Int) -> String { "Line \(id)" }
    let askDirections = "Which calls to record (incoming, outgoing, both)"
    let askAnnouncement = "Announcement WAV file for incoming calls (16-bit mono, 8000 Hz; relative to /etc/skryba)"
    let recipientsIntro = "The organisation's age public keys (age1…, from age-keygen -y); an empty line ends the list."
    func askRecipient(_ number: Int) -> String { "Recipient \(number)" }
    let recipientRequired = "At least one recipient is needed: without one nothing is recorded."
    let askRetention = "Retention (30d, 6m, capacity)"
    let setupInvalid = "The configuration was not written; it would have these problems (type setup to try again):"
    func setupDone(_ path: String, _ lines: Int) -> String { "Wrote \(path) with \(lines) line(s); it is checked and audited." }
    func setupDoneAuditedAtStart(_ path: String, _ lines: Int) -> String { "Wrote \(path) with \(lines) line(s); it is checked, and skrybad audits it when it starts." }
    func answerNotUnderstood(_ answer: String) -> String { "'\(answer)' is not one of the answers this question takes; try again." }
}
